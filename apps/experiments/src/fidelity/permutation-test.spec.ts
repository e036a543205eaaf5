import { describe, expect, it } from 'vitest';
import { permutationPValue, smallestPValue } from './permutation-test';

/** Brute force over index subsets by bit masks: an oracle written differently from the recursion. */
function oracle(a: number[], b: number[]): number {
  const pooled = [...a, ...b];
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const observed = Math.abs(mean(a) - mean(b));
  let hits = 0;
  let splits = 0;
  for (let mask = 0; mask < 1 << pooled.length; mask++) {
    const first = pooled.filter((_, i) => mask & (1 << i));
    if (first.length !== a.length) continue;
    const second = pooled.filter((_, i) => !(mask & (1 << i)));
    splits++;
    if (Math.abs(mean(first) - mean(second)) >= observed - 1e-12) hits++;
  }
  return hits / splits;
}

describe('permutationPValue', () => {
  it('hand-worked: fully separated 2 + 2 groups → 2 of 6 splits are as extreme', () => {
    // splits of {1,2,3,4} into pairs: {1,2}|{3,4} and {3,4}|{1,2} reach |Δ| = 2; the other four are 0 or 1
    expect(permutationPValue([1, 2], [3, 4])).toBeCloseTo(2 / 6, 12);
  });

  it('identical groups → 1; all of one group below all of the other, 5 + 5 → 2/252', () => {
    expect(permutationPValue([1, 1, 1], [1, 1, 1])).toBe(1);
    expect(permutationPValue([0.9, 0.91, 0.92, 0.93, 0.94], [1, 1, 1, 1, 1])).toBeCloseTo(2 / 252, 12);
  });

  it('a saturated reference and two of five seeds below it is not evidence of a difference', () => {
    // the case mean ± 2 std flags: every reference seed at 1, ours 1, 1, 1, 0.995, 0.979
    const p = permutationPValue([1, 1, 1, 0.995, 0.979], [1, 1, 1, 1, 1]);
    expect(p).toBeCloseTo(oracle([1, 1, 1, 0.995, 0.979], [1, 1, 1, 1, 1]), 12);
    expect(p).toBeGreaterThan(0.05);
  });

  it('equals the bit-mask oracle on random groups of unequal sizes', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let t = 0; t < 30; t++) {
      const a = Array.from({ length: 1 + (t % 5) }, () => Math.round(rand() * 20) / 20);
      const b = Array.from({ length: 1 + ((t * 3) % 6) }, () => Math.round(rand() * 20) / 20 + 0.1);
      expect(permutationPValue(a, b), `${a} | ${b}`).toBeCloseTo(oracle(a, b), 12);
    }
  });

  it('an empty group → 1', () => {
    expect(permutationPValue([], [1])).toBe(1);
  });

  it('smallestPValue: 2/C(n+m, n) for equal sizes, 1/C(n+m, n) otherwise; 3 + 3 seeds cannot reach 0.05', () => {
    expect(smallestPValue(5, 5)).toBeCloseTo(2 / 252, 12);
    expect(smallestPValue(3, 3)).toBeCloseTo(2 / 20, 12);
    expect(smallestPValue(5, 3)).toBeCloseTo(1 / 56, 12);
    expect(smallestPValue(3, 3)).toBeGreaterThan(0.05);
  });
});
