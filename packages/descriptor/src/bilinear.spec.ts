import { describe, expect, it } from 'vitest';
import { bilinearMatrix, bilinearTaps } from './bilinear';

describe('bilinearMatrix', () => {
  it('2 → 4 with half-pixel centres: the edge sample is clamped, inner ones mix ¾ and ¼', () => {
    expect(Array.from(bilinearMatrix(2, 4))).toEqual([1, 0, 0.75, 0.25, 0.25, 0.75, 0, 1]);
  });

  it('every row sums to 1; the same size is the identity', () => {
    const m = bilinearMatrix(3, 7);
    for (let i = 0; i < 7; i++) expect(m.subarray(i * 3, i * 3 + 3).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(Array.from(bilinearMatrix(3, 3))).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  });

  it('in float64 holds the weights unrounded: 56 → 224 the same as float32, 3 → 7 rounded only in float32', () => {
    const f64 = bilinearMatrix(56, 224, 'float64');
    expect(f64).toBeInstanceOf(Float64Array);
    expect(Array.from(f64)).toEqual(Array.from(bilinearMatrix(56, 224)));
    const down = bilinearMatrix(3, 7, 'float64');
    expect(down[3]).toBe(1 - (1.5 * (3 / 7) - 0.5));
    expect(bilinearMatrix(3, 7)[3]).toBe(Math.fround(1 - Math.fround(1.5 * (3 / 7) - 0.5)));
    expect(down[3]).not.toBe(bilinearMatrix(3, 7)[3]);
  });
});

describe('bilinearTaps', () => {
  it('4 → 8: the lower and upper source of each output sample, the edges clamped', () => {
    const { lower, upper, wUpper } = bilinearTaps(4, 8, 'float64');
    expect(Array.from(lower)).toEqual([0, 0, 0, 1, 1, 2, 2, 3]);
    expect(Array.from(upper)).toEqual([1, 1, 1, 2, 2, 3, 3, 3]);
    expect(Array.from(wUpper)).toEqual([0, 0.25, 0.75, 0.25, 0.75, 0.25, 0.75, 0.25]);
  });
});
