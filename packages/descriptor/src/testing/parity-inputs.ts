/**
 * The inputs of the parity fixtures computed by the CFA reference code's own modules
 * (tools/torch-reference/official_fixtures.py): seeded random backbone weights in the reference
 * naming with non-trivial BatchNorm, normal-distributed images, and descriptor parameters with
 * torch's default init — a pure function of (backbone, seed, sizes), so a test regenerates
 * exactly what the fixture was computed from instead of storing full-width weights (hundreds of
 * MB). `parityInputsDigest` checks that nothing drifted: the fixtures record it.
 *
 * @example
 * ```ts
 * const inputs = parityInputs({ backbone: 'resnet18', seed: 11, inputSize: 64, images: 2, gammaD: 4 });
 * parityInputsDigest(inputs) === fixture.metadata.inputsSha256;
 * ```
 */
import { createHash } from 'node:crypto';
import { backboneDefinition, inferFeatureShapes, randomInitWeights, type StateDict } from '@cfa/backbone';
import { createRng } from '@cfa/tensor-runtime';
import { coordConvWeightToTorch, createCoordConvParams } from '../coord-conv';

export interface ParityInputsSpec {
  backbone: string;
  seed: number;
  inputSize: number;
  images: number;
  gammaD: number;
}

/** `backbone.<name>` weights, `images` [N, S, S, 3], `descriptor.weight` (torch layout) and `.bias`. */
export function parityInputs(spec: ParityInputsSpec): StateDict {
  const def = backboneDefinition(spec.backbone, 'reference');
  const tensors: StateDict = new Map();
  for (const [k, v] of randomInitWeights(def, spec.seed, { batchNorm: 'random' })) tensors.set(`backbone.${k}`, v);
  const rng = createRng(spec.seed).fork(`images:${spec.backbone}`);
  const n = spec.images * spec.inputSize * spec.inputSize * 3;
  tensors.set('images', {
    shape: [spec.images, spec.inputSize, spec.inputSize, 3],
    data: Float32Array.from({ length: n }, () => rng.normal()),
  });
  const channels = inferFeatureShapes(def, spec.inputSize).reduce((a, f) => a + f.channels, 0);
  const params = createCoordConvParams({
    inChannels: channels,
    gammaD: spec.gammaD,
    outMultiplier: def.embedding.outMultiplier,
    init: 'torch-default',
    seed: spec.seed,
  });
  tensors.set('descriptor.weight', {
    shape: [params.outChannels, channels + 2, 1, 1],
    data: coordConvWeightToTorch(params),
  });
  tensors.set('descriptor.bias', { shape: [params.outChannels], data: params.bias });
  return tensors;
}

/** sha256 over names, shapes and float32 bytes, in name order. */
export function parityInputsDigest(tensors: StateDict): string {
  const hash = createHash('sha256');
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name)!;
    hash.update(`${name}:${t.shape.join('x')};`);
    hash.update(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return hash.digest('hex');
}
