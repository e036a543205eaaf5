/**
 * The inputs of the parity fixtures computed by the PatchCore reference code's own modules
 * (tools/torch-reference/patchcore_fixtures.py): seeded random backbone weights in torchvision's
 * naming with non-trivial BatchNorm, normal-distributed train and test images, and the coreset's
 * random draws — the projection matrix and the starting points that `fitPatchCore` draws from the
 * seed (`coresetDraws`), which the driver injects into the reference's sampler in place of its own
 * torch / NumPy draws. A pure function of the settings, so a spec regenerates exactly what the
 * fixture was computed from (`parityInputsDigest` of @cfa/descriptor/testing checks it).
 *
 * @example
 * ```ts
 * const inputs = patchCoreParityInputs({ backbone: 'resnet18', seed: 3, inputSize: 64, trainImages: 4, testImages: 2, embedding: { patchSize: 3, preDim: 200, targetDim: 160 }, fraction: 0.25 });
 * inputs.get('coreset.projection')!.shape; // [128, 160]
 * ```
 */
import { backboneDefinition, inferFeatureShapes, randomInitWeights, type StateDict } from '@cfa/backbone';
import { coresetDraws } from '@cfa/memory-bank';
import { createRng } from '@cfa/tensor-runtime';
import type { z } from 'zod';
import type { EmbeddingConfigSchema } from '../config';

export interface PatchCoreParitySpec {
  backbone: string;
  seed: number;
  inputSize: number;
  trainImages: number;
  testImages: number;
  layers: string[];
  embedding: z.infer<typeof EmbeddingConfigSchema>;
  /** Coreset fraction; absent = features only (no coreset draws). */
  fraction?: number;
}

/** `backbone.<name>` weights, `images.train` / `images.test` [N, S, S, 3], and `coreset.projection` / `coreset.startPoints`. */
export function patchCoreParityInputs(spec: PatchCoreParitySpec): StateDict {
  const def = backboneDefinition(spec.backbone, 'torchvision');
  const tensors: StateDict = new Map();
  for (const [k, v] of randomInitWeights(def, spec.seed, { batchNorm: 'random' })) tensors.set(`backbone.${k}`, v);
  const rng = createRng(spec.seed).fork(`patchcore-images:${spec.backbone}`);
  const s = spec.inputSize;
  for (const [split, n] of [
    ['train', spec.trainImages],
    ['test', spec.testImages],
  ] as const)
    if (n > 0)
      tensors.set(`images.${split}`, {
        shape: [n, s, s, 3],
        data: Float32Array.from({ length: n * s * s * 3 }, () => rng.normal()),
      });
  if (spec.fraction !== undefined) {
    const grid = inferFeatureShapes(def, s).find((f) => f.name === spec.layers[0])!;
    const count = spec.trainImages * grid.height * grid.width;
    const draws = coresetDraws({ seed: spec.seed, count, dim: spec.embedding.targetDim });
    if (draws.projection)
      tensors.set('coreset.projection', {
        shape: [draws.projectionDim, spec.embedding.targetDim],
        data: draws.projection,
      });
    tensors.set('coreset.startPoints', {
      shape: [draws.startPoints.length],
      data: Float32Array.from(draws.startPoints),
    });
  }
  return tensors;
}

/**
 * The fixtures' settings (without the seed, which make-patchcore-fixtures.sh picks): the whole
 * pipeline on resnet18 at 64 px with small, non-dividing embedding dimensions (200 = 1152/5.76 and
 * 2304/11.52, 160 = 400/2.5: overlapping pooling bins) and a 25 % coreset of 4 × 8·8 patches; the
 * features of wide_resnet50_2 at the authors' 1024 > 1024.
 */
export const PATCHCORE_PARITY_SETTINGS: (Omit<PatchCoreParitySpec, 'seed'> & {
  neighbours?: number;
  sigma?: number;
})[] = [
  {
    backbone: 'resnet18',
    inputSize: 64,
    trainImages: 4,
    testImages: 2,
    layers: ['layer2', 'layer3'],
    embedding: { patchSize: 3, preDim: 200, targetDim: 160 },
    fraction: 0.25,
    neighbours: 1,
    sigma: 4,
  },
  {
    backbone: 'wide_resnet50_2',
    inputSize: 64,
    trainImages: 1,
    testImages: 0,
    layers: ['layer2', 'layer3'],
    embedding: { patchSize: 3, preDim: 1024, targetDim: 1024 },
  },
];
