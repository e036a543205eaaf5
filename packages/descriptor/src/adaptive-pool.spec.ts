import { describe, expect, it } from 'vitest';
import { adaptivePoolBins, adaptivePoolTaps } from './adaptive-pool';

describe('adaptivePoolBins (PyTorch adaptive_avg_pool1d)', () => {
  it('L=5 → O=3: bins [0,2) [1,4) [3,5), overlapping where L/O is not whole', () => {
    const b = adaptivePoolBins(5, 3);
    expect([...b.starts]).toEqual([0, 1, 3]);
    expect([...b.counts]).toEqual([2, 3, 2]);
    expect([b.maxCount, b.uniformWidth]).toEqual([3, 0]);
  });

  it('L=4608 → O=1024 (wide_resnet50_2 layer2 unfolded 3×3): every bin holds 5 inputs, neighbours share one', () => {
    const b = adaptivePoolBins(4608, 1024);
    expect(new Set(b.counts)).toEqual(new Set([5]));
    expect([b.starts[0], b.starts[1], b.starts[2], b.starts[1023]]).toEqual([0, 4, 9, 4603]);
  });

  it('L=2 → O=5 (upsampling): each output reads one input, in order', () => {
    const b = adaptivePoolBins(2, 5);
    expect([...b.starts]).toEqual([0, 0, 0, 1, 1]);
    expect([...b.counts]).toEqual([1, 1, 2, 1, 1]);
  });

  it('L a multiple of O: disjoint equal bins', () => {
    expect(adaptivePoolBins(9216, 1024).uniformWidth).toBe(9);
    expect(adaptivePoolBins(7, 7).uniformWidth).toBe(1);
  });

  it('taps average each bin: slot weights 1/count, padded slots weigh 0', () => {
    const { indices, weights } = adaptivePoolTaps(adaptivePoolBins(5, 3));
    const x = [1, 2, 4, 8, 16];
    const pooled = [0, 1, 2].map((i) => indices.reduce((s, idx, slot) => s + x[idx[i]] * weights[slot][i], 0));
    expect(pooled.map((v) => +v.toFixed(6))).toEqual([1.5, 14 / 3, 12].map((v) => +v.toFixed(6)));
  });

  it('refuses lengths that are not positive integers', () => {
    expect(() => adaptivePoolBins(0, 3)).toThrow(/lengths must be positive integers, got 0 → 3/);
  });
});
