/**
 * PaDiM's pieces against the PaDiM reference code's `main()` itself
 * (tools/torch-reference/padim_fixtures.py runs it through padim_code.py on seeded random-init
 * torchvision ResNet-18 weights and normal input tensors at 32 px): its `embedding_concat`, the
 * per-position mean, covariance + 0.01·I and `np.linalg.inv` (at three positions), the Mahalanobis
 * distances of every test patch and the σ = 4 maps — ours from the same inputs, with its channel
 * draw `idx`, on both engines, within 1e-4 of each array's scale. The inputs are regenerated from
 * the settings the fixture carries and checked by digest; `nx run tools:padim-fixtures` (needs
 * PADIM_REFERENCE_DIR) rebuilds the fixture.
 */
import { readFileSync } from 'node:fs';
import { backboneDefinition, buildBackboneModel, decodeSafetensors, type StateDict } from '@cfa/backbone';
import { createPatchEmbedder, nearestEmbedding } from '@cfa/descriptor';
import { parityInputs, parityInputsDigest } from '@cfa/descriptor/testing';
import { fitPositionGaussians } from '@cfa/memory-bank';
import { anomalyMaps, createMahalanobisScorer } from '@cfa/scoring';
import { selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { describe, expect, it } from 'vitest';

const path = new URL('./__fixtures__/padim-reference.safetensors', import.meta.url);
const { tensors, metadata } = decodeSafetensors(readFileSync(path), path.pathname);
const settings = JSON.parse(metadata.settings) as {
  seed: number;
  inputSize: number;
  train: number;
  test: number;
  positions: number[];
  gammaD: number;
};
const inputs = parityInputs({ backbone: 'resnet18', ...settings, images: settings.train + settings.test });
const expected = (key: string) => tensors.get(key)!.data;
const idx = Array.from(expected('idx'));
const d = idx.length;
const EPSILON = 0.01;
const SIGMA = 4;

const weights: StateDict = new Map(
  [...inputs].filter(([k]) => k.startsWith('backbone.')).map(([k, v]) => [k.slice('backbone.'.length), v]),
);
const model = buildBackboneModel(backboneDefinition('resnet18', 'torchvision'), weights, {
  kind: 'random',
  seed: settings.seed,
  id: 'padim-parity',
});

describe('PaDiM against the PaDiM reference code', () => {
  it('regenerates exactly the inputs the fixture was computed from', () => {
    expect(parityInputsDigest(inputs)).toBe(metadata.inputsSha256);
    expect(d).toBe(100);
  });

  it.each(['ort', 'tfjs'] as const)(
    'embedding, mean, covariance, inverse, distances and maps match on %s within 1e-4',
    async (engineName) => {
      const engine = await selectEngine({ requested: engineName, tfBackend: 'wasm', threads: 2 });
      const S = settings.inputSize;
      const embedder = await createPatchEmbedder({ engine, backbone: model, inputSize: S, pooling: 'none' });
      const pyramids = await embedder.embedPyramids(inputs.get('images')!.data, settings.train + settings.test);
      await embedder.release();
      const { levels } = embedder;
      const { height: H, width: W } = levels[0];
      const P = H * W;
      const errors: Record<string, number> = {};

      // embedding_concat of test image 0 (all 448 channels, [H, W, 448])
      errors.embedding = maxRelativeError(
        nearestEmbedding({ pyramid: pyramids[settings.train], levels }),
        expected('embedding'),
      );

      const gaussians = await fitPositionGaussians({
        count: settings.train,
        positions: P,
        dim: d,
        read: async (i) => nearestEmbedding({ pyramid: pyramids[i], levels, channels: idx }),
        epsilon: EPSILON,
        keepCovariance: true,
      });
      errors.mean = maxRelativeError(gaussians.mean, expected('mean'));
      const at = (x: Float32Array) =>
        Float32Array.from(settings.positions.flatMap((p) => Array.from(x.subarray(p * d * d, (p + 1) * d * d))));
      errors.covariance = maxRelativeError(at(gaussians.covariance!), expected('covariance'));
      errors.inverse = maxRelativeError(at(gaussians.inverse), expected('inverse'));

      const scorer = await createMahalanobisScorer({ engine, gaussians });
      const test = pyramids
        .slice(settings.train)
        .map((pyramid) => nearestEmbedding({ pyramid, levels, channels: idx }));
      const stacked = new Float32Array(settings.test * P * d);
      test.forEach((x, i) => stacked.set(x, i * P * d));
      const distances = await scorer.maps(stacked, settings.test);
      await scorer.release();
      errors.distances = maxRelativeError(distances, expected('distances'));
      const maps = anomalyMaps({
        scores: distances,
        count: settings.test,
        height: H,
        width: W,
        outputSize: S,
        sigma: SIGMA,
      });
      errors.maps = maxRelativeError(maps, expected('maps'));

      console.log(
        `${engineName}: max error / scale ${JSON.stringify(errors, (_, v) => (typeof v === 'number' ? Number(v.toExponential(2)) : v))}`,
      );
      for (const [name, error] of Object.entries(errors)) expect(error, name).toBeLessThan(1e-4);
    },
  );
});
