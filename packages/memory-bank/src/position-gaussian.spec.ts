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

  describe('withinPositionShare', () => {
    const fitOf = (xs: Float32Array[], positions: number, dim: number) =>
      fitPositionGaussians({ count: xs.length, positions, dim, read: async (i) => xs[i], epsilon: 0.01 });

    it('hand-worked: 1-d features, 2 images × 2 positions', async () => {
      // position 0: 0, 2 (mean 1); position 1: 4, 6 (mean 5); overall mean 3.
      // within: (1 + 1) + (1 + 1) = 4; total: 9 + 1 + 1 + 9 = 20 → 0.2
      const fit = await fitOf([Float32Array.from([0, 4]), Float32Array.from([2, 6])], 2, 1);
      expect(fit.withinPositionShare).toBeCloseTo(0.2, 12);
    });

    it('0 when each position holds one feature, 1 when every position has the same mean, 0 when all is one value', async () => {
      const same = Array.from({ length: 3 }, () => Float32Array.from([1, 2, 3, 4]));
      expect((await fitOf(same, 2, 2)).withinPositionShare).toBe(0);
      // the same two features at both positions, in both orders: the positions' means agree
      const mixed = [Float32Array.from([1, 5, 3, 7]), Float32Array.from([3, 7, 1, 5])];
      expect((await fitOf(mixed, 2, 2)).withinPositionShare).toBeCloseTo(1, 12);
      const flat = Array.from({ length: 2 }, () => new Float32Array(4).fill(2.5));
      expect((await fitOf(flat, 2, 2)).withinPositionShare).toBe(0);
    });

    it('agrees with a brute-force two-pass sum of squares and does not change with the scale', async () => {
      const brute = (xs: Float32Array[]) => {
        const overall = new Float64Array(d);
        for (const x of xs) for (let k = 0; k < P * d; k++) overall[k % d] += x[k] / (xs.length * P);
        let within = 0,
          total = 0;
        for (let p = 0; p < P; p++)
          for (let i = 0; i < d; i++) {
            const m = xs.reduce((s, x) => s + x[p * d + i], 0) / xs.length;
            for (const x of xs) {
              within += (x[p * d + i] - m) ** 2;
              total += (x[p * d + i] - overall[i]) ** 2;
            }
          }
        return within / total;
      };
      const fit = await fitOf(images, P, d);
      expect(fit.withinPositionShare).toBeCloseTo(brute(images), 9);
      expect(fit.withinPositionShare).toBeGreaterThan(0);
      expect(fit.withinPositionShare).toBeLessThan(0.5); // the per-position offsets of 50 dominate
      const scaled = images.map((x) => x.map((v) => 3 * v));
      expect((await fitOf(scaled, P, d)).withinPositionShare).toBeCloseTo(fit.withinPositionShare!, 6);
    });
  });
});
