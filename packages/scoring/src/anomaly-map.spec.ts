import { describe, expect, it } from 'vitest';
import { anomalyMaps, imageScores, patchAnomalyScores } from './anomaly-map';
import { gaussianKernel } from './gaussian-blur';
import { gaussianBlur, upsampleBilinear } from './testing';

describe('patchAnomalyScores', () => {
  it('K=3 squared distances [1, 4, 9], Euclidean: d = [1,2,3], A = 1 · e⁻¹/(e⁻¹+e⁻²+e⁻³)', () => {
    const [a] = patchAnomalyScores({
      distances: new Float32Array([1, 4, 9]),
      count: 1,
      k: 3,
      K: 3,
      metric: 'euclidean',
    });
    const e = Math.exp;
    expect(a).toBeCloseTo(e(-1) / (e(-1) + e(-2) + e(-3)), 6);
  });

  it('squared metric uses the distances as given; K=1 gives d₁ itself; tiny negative rounding is clamped', () => {
    const [a] = patchAnomalyScores({ distances: new Float32Array([1, 4, 9]), count: 1, k: 3, K: 2, metric: 'squared' });
    expect(a).toBeCloseTo((1 * Math.exp(-1)) / (Math.exp(-1) + Math.exp(-4)), 6);
    expect(
      Array.from(
        patchAnomalyScores({
          distances: new Float32Array([2.25, 5, -1e-7, 3]),
          count: 2,
          k: 2,
          K: 1,
          metric: 'euclidean',
        }),
      ),
    ).toEqual([1.5, 0]);
  });

  it('is stable for large distances (no 0/0)', () => {
    const [a] = patchAnomalyScores({
      distances: new Float32Array([1e6, 1e6 + 1]),
      count: 1,
      k: 2,
      K: 2,
      metric: 'squared',
    });
    expect(a).toBeCloseTo(1e6 / (1 + Math.exp(-1)), 0);
  });
});

describe('gaussianBlur (the oracle of anomalyMaps)', () => {
  it('keeps a constant map constant and preserves the mean of an impulse away from borders', () => {
    const c = gaussianBlur({ map: new Float32Array(100).fill(3), height: 10, width: 10, sigma: 1 });
    c.forEach((v) => expect(v).toBeCloseTo(3, 5));
    const impulse = new Float32Array(41 * 41);
    impulse[20 * 41 + 20] = 1;
    const blurred = gaussianBlur({ map: impulse, height: 41, width: 41, sigma: 2 });
    expect(blurred.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(blurred[20 * 41 + 20]).toBeCloseTo(gaussianKernel(2)[8] ** 2, 6);
  });
});

describe('anomaly maps', () => {
  it('upsampleBilinear 2→4 per row: [a, .75a+.25b, .25a+.75b, b]', () => {
    expect(Array.from(upsampleBilinear(new Float32Array([0, 4]), 1, 2, 1, 4))).toEqual([0, 1, 3, 4]);
  });

  it('maps: N=2 of 2×2 → 4×4 without blur, image score = max', () => {
    const maps = anomalyMaps({
      scores: new Float32Array([0, 0, 0, 4, 1, 1, 1, 1]),
      count: 2,
      height: 2,
      width: 2,
      outputSize: 4,
      sigma: 0,
    });
    expect(maps.length).toBe(32);
    expect(maps[15]).toBe(4);
    expect(Array.from(maps.subarray(16))).toEqual(new Array(16).fill(1));
    expect(Array.from(imageScores({ maps, count: 2, size: 4 }))).toEqual([4, 1]);
  });

  it('names bad sizes', () => {
    expect(() =>
      anomalyMaps({ scores: new Float32Array(3), count: 1, height: 2, width: 2, outputSize: 4, sigma: 4 }),
    ).toThrow(/scores must hold \[1, 2, 2\] values, got 3/);
  });
});
