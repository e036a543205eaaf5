/**
 * Seeded random initialisation, as torchvision initialises these models: convolutions
 * Kaiming-normal (fan_out, ReLU gain), conv biases 0, BatchNorm weight 1, bias 0, running mean 0,
 * running var 1. It is the embedded default when no ImageNet weight file is at hand, so every
 * run that uses it is tagged `weights=random`.
 */
import { createRng } from '@cfa/tensor-runtime';
import type { BackboneDefinition } from '../architectures/net-builder';
import { summarizeDefinition } from '../architectures/param-spec';
import type { StateDict } from './state-dict';

export function randomInitWeights(def: BackboneDefinition, seed: number): StateDict {
  const rng = createRng(seed).fork(`backbone:${def.name}`);
  const weights: StateDict = new Map();
  for (const p of summarizeDefinition(def, 64).params) {
    const size = p.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (p.role === 'conv.weight') {
      const [out, , kh, kw] = p.shape;
      const std = Math.sqrt(2 / (out * kh * kw));
      for (let i = 0; i < size; i++) data[i] = rng.normal() * std;
    } else if (p.role === 'bn.weight' || p.role === 'bn.running_var') {
      data.fill(1);
    }
    weights.set(p.name, { shape: p.shape, data });
  }
  return weights;
}
