/**
 * Seeded random initialisation, as torchvision initialises these models: convolutions
 * Kaiming-normal (fan_out, ReLU gain), conv biases 0, BatchNorm weight 1, bias 0, running mean 0,
 * running var 1. It is the embedded default when no ImageNet weight file is at hand, so every
 * run that uses it is tagged `weights=random`.
 *
 * `batchNorm: 'random'` draws non-trivial BatchNorm parameters and statistics instead (weight
 * 1 + 0.1·N, bias 0.1·N, mean 0.1·N, var 0.5 + U): parity fixtures use it so that BatchNorm
 * fusion is exercised; the values are a pure function of the seed, so a test regenerates exactly
 * the weights a fixture was computed from.
 */
import { createRng } from '@cfa/tensor-runtime';
import type { BackboneDefinition } from '../architectures/net-builder';
import { summarizeDefinition } from '../architectures/param-spec';
import type { StateDict } from './state-dict';

export interface RandomInitOptions {
  batchNorm?: 'identity' | 'random';
}

export function randomInitWeights(def: BackboneDefinition, seed: number, options: RandomInitOptions = {}): StateDict {
  const rng = createRng(seed).fork(`backbone:${def.name}`);
  const bnRng = createRng(seed).fork(`backbone-bn:${def.name}`);
  const randomBn = options.batchNorm === 'random';
  const weights: StateDict = new Map();
  for (const p of summarizeDefinition(def, 64).params) {
    const size = p.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (p.role === 'conv.weight') {
      const [out, , kh, kw] = p.shape;
      const std = Math.sqrt(2 / (out * kh * kw));
      for (let i = 0; i < size; i++) data[i] = rng.normal() * std;
    } else if (randomBn && p.role.startsWith('bn.') && p.role !== 'bn.num_batches_tracked') {
      const draw = {
        'bn.weight': () => 1 + 0.1 * bnRng.normal(),
        'bn.bias': () => 0.1 * bnRng.normal(),
        'bn.running_mean': () => 0.1 * bnRng.normal(),
        'bn.running_var': () => 0.5 + bnRng.next(),
      }[p.role as 'bn.weight' | 'bn.bias' | 'bn.running_mean' | 'bn.running_var'];
      for (let i = 0; i < size; i++) data[i] = draw();
    } else if (p.role === 'bn.weight' || p.role === 'bn.running_var') {
      data.fill(1);
    }
    weights.set(p.name, { shape: p.shape, data });
  }
  return weights;
}
