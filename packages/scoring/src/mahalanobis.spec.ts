/**
 * Mahalanobis distance maps on both engines against a float64 loop over positions and images (as
 * the PaDiM reference code's `scipy.spatial.distance.mahalanobis` per position), the graph piece's
 * layout, leaks, and bad input.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRng, selectEngine } from '@cfa/tensor-runtime';
import { describe, expect, it } from 'vitest';
import { createMahalanobisScorer } from './mahalanobis';

const rng = createRng(5);
const P = 6,
  d = 4,
  B = 3;
const mean = Float32Array.from({ length: P * d }, () => rng.normal());
// Σ⁻¹ = A Aᵀ + I per position: symmetric positive definite
const inverse = new Float32Array(P * d * d);
for (let p = 0; p < P; p++) {
  const a = Array.from({ length: d * d }, () => rng.normal());
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let s = i === j ? 1 : 0;
      for (let k = 0; k < d; k++) s += a[i * d + k] * a[j * d + k];
      inverse[p * d * d + i * d + j] = s;
    }
}
const x = Float32Array.from({ length: B * P * d }, () => rng.normal());

function expected(): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++)
    for (let p = 0; p < P; p++) {
      let s = 0;
      for (let i = 0; i < d; i++)
        for (let j = 0; j < d; j++)
          s +=
            (x[(b * P + p) * d + i] - mean[p * d + i]) *
            inverse[p * d * d + i * d + j] *
            (x[(b * P + p) * d + j] - mean[p * d + j]);
      out.push(Math.sqrt(s));
    }
  return out;
}

describe('createMahalanobisScorer', () => {
  it.each(['ort', 'tfjs'] as const)('x=[3,6,4]: sqrt((x−μ)ᵀ Σ⁻¹ (x−μ)) per image and position on %s', async (name) => {
    const engine = await selectEngine({ requested: name, tfBackend: 'wasm', threads: 1 });
    const before = tf.memory().numTensors;
    const scorer = await createMahalanobisScorer({ engine, gaussians: { positions: P, dim: d, mean, inverse } });
    const maps = await scorer.maps(x, B);
    await scorer.release();
    expect(tf.memory().numTensors).toBe(before);
    expect(maps.length).toBe(B * P);
    expect(Array.from(maps)).toEqual(expected().map((v) => expect.closeTo(v, 4)));
    // at the mean the distance is 0
    const atMean = await createMahalanobisScorer({ engine, gaussians: { positions: P, dim: d, mean, inverse } });
    expect(Array.from(await atMean.maps(mean, 1))).toEqual(Array(P).fill(0));
    await expect(atMean.maps(x, 2)).rejects.toThrow(/embeddings must hold \[2, 6, 4\] values, got 72/);
    await atMean.release();
  });

  it('names Gaussians of the wrong size', async () => {
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    await expect(
      createMahalanobisScorer({ engine, gaussians: { positions: P, dim: d, mean, inverse: inverse.subarray(1) } }),
    ).rejects.toThrow(/inverse must hold \[6, 4, 4\] values/);
  });
});
