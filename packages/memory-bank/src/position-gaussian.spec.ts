/**
 * PaDiM's per-position Gaussians: the one-pass float64 sums give numpy's centred `np.cov`
 * (ddof 1) + εI, whatever the batching; the Cholesky inverse inverts; bad input is named. The
 * PaDiM reference code's own numbers are checked in @cfa/padim's official-parity spec.
 */
import { createRng } from '@cfa/tensor-runtime';
import { describe, expect, it } from 'vitest';
import { choleskyInverse, fitPositionGaussians, gaussianBytes, PositionGaussianAccumulator } from './position-gaussian';

const rng = createRng(7);
// N images × P positions × d channels, with a per-position offset (a large mean stresses the one-pass formula)
const N = 9,
  P = 5,
  d = 6;
const images = Array.from({ length: N }, () =>
  Float32Array.from({ length: P * d }, (_, k) => 50 * Math.floor(k / d) + rng.normal() * (1 + (k % d))),
);

/** Two-pass, centred, float64: what np.cov(x, rowvar=False) + eps·I computes. */
function centredCovariance(p: number, eps: number): Float64Array {
  const mu = new Float64Array(d);
  for (const x of images) for (let i = 0; i < d; i++) mu[i] += x[p * d + i] / N;
  const c = new Float64Array(d * d);
  for (const x of images)
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) c[i * d + j] += ((x[p * d + i] - mu[i]) * (x[p * d + j] - mu[j])) / (N - 1);
  for (let i = 0; i < d; i++) c[i * d + i] += eps;
  return c;
}

describe('fitPositionGaussians', () => {
  it('mean, covariance + εI (ddof 1) and its inverse at every position', async () => {
    const fit = await fitPositionGaussians({
      count: N,
      positions: P,
      dim: d,
      read: async (i) => images[i],
      epsilon: 0.01,
      batchSize: 4,
      keepCovariance: true,
    });
    expect([fit.count, fit.positions, fit.dim, fit.epsilon]).toEqual([N, P, d, 0.01]);
    for (let p = 0; p < P; p++) {
      const expected = centredCovariance(p, 0.01);
      for (let k = 0; k < d * d; k++) expect(fit.covariance![p * d * d + k]).toBeCloseTo(expected[k], 4);
      for (let i = 0; i < d; i++) {
        const m = images.reduce((s, x) => s + x[p * d + i], 0) / N;
        expect(fit.mean[p * d + i]).toBeCloseTo(m, 4);
      }
      // Σ · Σ⁻¹ = I
      const inv = fit.inverse.subarray(p * d * d, (p + 1) * d * d);
      for (let i = 0; i < d; i++)
        for (let j = 0; j < d; j++) {
          let s = 0;
          for (let k = 0; k < d; k++) s += expected[i * d + k] * inv[k * d + j];
          expect(s).toBeCloseTo(i === j ? 1 : 0, 4);
        }
    }
  });

  it('the same sums whatever the batching', () => {
    const one = new PositionGaussianAccumulator(P, d);
    images.forEach((x) => one.add(x, 1));
    const all = new PositionGaussianAccumulator(P, d);
    const stacked = new Float32Array(N * P * d);
    images.forEach((x, i) => stacked.set(x, i * P * d));
    all.add(stacked, N);
    const a = one.finish({ epsilon: 0.01 }),
      b = all.finish({ epsilon: 0.01 });
    expect(Array.from(a.mean)).toEqual(Array.from(b.mean));
    expect(Array.from(a.inverse)).toEqual(Array.from(b.inverse));
  });

  it('refuses too few images, a wrong size, a non-finite value, and a singular covariance (naming the position)', async () => {
    const acc = new PositionGaussianAccumulator(P, d);
    acc.add(images[0], 1);
    expect(() => acc.finish({ epsilon: 0.01 })).toThrow(/at least 2 images, got 1/);
    expect(() => acc.add(new Float32Array(3), 1)).toThrow(/expected \[1, 5, 6\] = 30 values, got 3/);
    const bad = Float32Array.from(images[1]);
    bad[2 * d + 3] = NaN;
    expect(() => acc.add(bad, 1)).toThrow(/image 1 holds NaN at position 2, channel 3/);
    // 3 images span at most 2 directions of 6: without ε the covariance is singular
    const few = new PositionGaussianAccumulator(P, d);
    images.slice(0, 3).forEach((x) => few.add(x, 1));
    expect(() => few.finish({ epsilon: 0 })).toThrow(/at position 0 is not positive definite.*raise epsilon/);
    await expect(
      fitPositionGaussians({ count: 2, positions: P, dim: d, read: async () => new Float32Array(4), epsilon: 0.01 }),
    ).rejects.toThrow(/image 0 holds 4 values, expected \[5, 6\]/);
  });

  it('choleskyInverse of a known 2×2; gaussianBytes counts mean + inverse', () => {
    const out = new Float64Array(4);
    choleskyInverse(Float64Array.from([4, 2, 2, 3]), 2, out);
    // [[4,2],[2,3]]⁻¹ = [[3,-2],[-2,4]] / 8
    expect(Array.from(out)).toEqual([3 / 8, -2 / 8, -2 / 8, 4 / 8].map((v) => expect.closeTo(v, 12)));
    expect(gaussianBytes(3136, 100)).toBe(4 * 3136 * (100 + 10000));
  });
});
