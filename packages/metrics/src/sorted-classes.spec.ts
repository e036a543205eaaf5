import { describe, expect, it } from 'vitest';
import { sortedClasses } from './sorted-classes';

describe('sortedClasses', () => {
  it('splits by label and sorts each class ascending, keeping Float32Array input as Float32Array', () => {
    const { negatives, positives } = sortedClasses(Float32Array.of(0.5, -1, 3, 0.25, 2), Uint8Array.of(1, 0, 1, 0, 0));
    expect(negatives).toBeInstanceOf(Float32Array);
    expect(Array.from(negatives)).toEqual([-1, 0.25, 2]);
    expect(Array.from(positives)).toEqual([0.5, 3]);
  });

  it('uses Float64Array for anything else, so float64 scores stay exact', () => {
    const close = [0.1 + 1e-12, 0.1];
    const { negatives } = sortedClasses(close, [0, 0]);
    expect(negatives).toBeInstanceOf(Float64Array);
    expect(Array.from(negatives)).toEqual([0.1, 0.1 + 1e-12]);
  });

  it('sorts numerically, not as strings (10 after 9)', () => {
    expect(Array.from(sortedClasses([10, 9, 100, 1], [0, 0, 0, 0]).negatives)).toEqual([1, 9, 10, 100]);
  });
});
