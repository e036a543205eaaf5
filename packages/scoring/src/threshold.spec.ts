import { describe, expect, it } from 'vitest';
import { thresholdAtFalsePositiveRate } from './threshold';

describe('thresholdAtFalsePositiveRate', () => {
  it('is numpy’s linear quantile at 1 − fpr (hand-worked on 0…10)', () => {
    const scores = [7, 3, 10, 0, 5, 1, 9, 2, 8, 4, 6];
    // np.quantile(range(11), 0.95) = 9.5; 0.9 → 9; fpr 0 → the maximum
    expect(thresholdAtFalsePositiveRate({ scores, fpr: 0.05 })).toBeCloseTo(9.5, 12);
    expect(thresholdAtFalsePositiveRate({ scores, fpr: 0.1 })).toBeCloseTo(9, 12);
    expect(thresholdAtFalsePositiveRate({ scores, fpr: 0 })).toBe(10);
    expect(thresholdAtFalsePositiveRate({ scores: new Float32Array([2.5]), fpr: 0.3 })).toBe(2.5);
  });

  it('lets about fpr of the normal scores through', () => {
    const scores = Float32Array.from({ length: 10_000 }, (_, i) => Math.sin(i) * 100);
    const t = thresholdAtFalsePositiveRate({ scores, fpr: 0.01 });
    const above = scores.filter((s) => s > t).length;
    expect(above).toBeGreaterThanOrEqual(99);
    expect(above).toBeLessThanOrEqual(101);
  });

  it('refuses an empty set, NaN scores and an fpr outside [0, 1)', () => {
    expect(() => thresholdAtFalsePositiveRate({ scores: [], fpr: 0.1 })).toThrow(/no scores/);
    expect(() => thresholdAtFalsePositiveRate({ scores: [1, NaN], fpr: 0.1 })).toThrow(/NaN/);
    expect(() => thresholdAtFalsePositiveRate({ scores: [1], fpr: 1 })).toThrow(/fpr must be in \[0, 1\), got 1/);
  });
});
