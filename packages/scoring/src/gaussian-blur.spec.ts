import { describe, expect, it } from 'vitest';
import { gaussianKernel, reflectIndex } from './gaussian-blur';

describe('gaussianKernel', () => {
  it('σ=4 has radius ⌊4σ+0.5⌋ = 16 and sums to 1', () => {
    const k = gaussianKernel(4);
    expect(k.length).toBe(33);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it("σ=1: scipy's weights, symmetric, exp(−i²/2) normalised (radius 4)", () => {
    const k = gaussianKernel(1);
    const raw = [-4, -3, -2, -1, 0, 1, 2, 3, 4].map((i) => Math.exp(-0.5 * i * i));
    const sum = raw.reduce((a, b) => a + b, 0);
    expect(Array.from(k)).toEqual(raw.map((v) => v / sum));
  });

  it('refuses σ ≤ 0 (0 means no smoothing, which the map operator handles without a kernel)', () => {
    expect(() => gaussianKernel(0)).toThrow(/sigma must be > 0, got 0/);
  });
});

describe('reflectIndex', () => {
  it("reflects like scipy's 'reflect' (d c b a | a b c d | d c b a)", () => {
    expect([-3, -2, -1, 0, 3, 4, 5, 6].map((i) => reflectIndex(i, 4))).toEqual([2, 1, 0, 0, 3, 3, 2, 1]);
  });

  it('repeats for kernels longer than the axis, and maps everything to 0 on a 1-sample axis', () => {
    expect([-9, -5, 8, 12].map((i) => reflectIndex(i, 4))).toEqual([0, 3, 0, 3]);
    expect([-3, 0, 5].map((i) => reflectIndex(i, 1))).toEqual([0, 0, 0]);
  });
});
