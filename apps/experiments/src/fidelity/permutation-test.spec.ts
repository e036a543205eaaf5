import { describe, expect, it } from 'vitest';
import { permutationPValue, SAMPLED_SPLITS, smallestPValue, spreadPValue } from './permutation-test';

const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;

/**
 * Brute force over index subsets by bit masks: an oracle written differently from the recursion.
 * `statistic` compares two groups; `prepare` turns each observed group into what is pooled.
 */
function oracle(
  a: number[],
  b: number[],
  statistic = (x: number[], y: number[]) => Math.abs(mean(x) - mean(y)),
  prepare = (v: number[]) => v,
): number {
  const pooled = [...prepare(a), ...prepare(b)];
  const observed = statistic(prepare(a), prepare(b));
  let hits = 0;
  let splits = 0;
  for (let mask = 0; mask < 1 << pooled.length; mask++) {
    const first = pooled.filter((_, i) => mask & (1 << i));
    if (first.length !== a.length) continue;
    const second = pooled.filter((_, i) => !(mask & (1 << i)));
    splits++;
    if (statistic(first, second) >= observed - 1e-12 * Math.max(1, observed)) hits++;
  }
  return hits / splits;
}

/** The spread test's oracle: squared deviations from each group's median, |ln| of the ratio of their means. */
const medianCentredSquares = (v: number[]) => {
  const s = [...v].sort((x, y) => x - y);
  const h = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
  return v.map((x) => (x - median) ** 2);
};
const spreadOracle = (a: number[], b: number[]) =>
  oracle(a, b, (x, y) => Math.abs(Math.log(mean(x) / mean(y))), medianCentredSquares);

let lcg = 7;
const rand = () => (lcg = (lcg * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

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
    for (let t = 0; t < 30; t++) {
      const a = Array.from({ length: 1 + (t % 5) }, () => Math.round(rand() * 20) / 20);
      const b = Array.from({ length: 1 + ((t * 3) % 6) }, () => Math.round(rand() * 20) / 20 + 0.1);
      expect(permutationPValue(a, b), `${a} | ${b}`).toBeCloseTo(oracle(a, b), 12);
    }
  });

  it('an empty group → 1', () => {
    expect(permutationPValue([], [1])).toBe(1);
  });

  it('samples splits beyond EXACT_SPLITS (15 + 15 seeds): p = (1 + hits) / (1 + draws)', () => {
    const a = Array.from({ length: 15 }, (_, i) => 0.8 + i / 1000);
    const b = Array.from({ length: 15 }, (_, i) => 0.9 + i / 1000);
    // fully separated: of C(30, 15) ≈ 1.6e8 splits only 2 are as extreme, so no draw is
    expect(permutationPValue(a, b)).toBeCloseTo(1 / (1 + SAMPLED_SPLITS), 12);
    // the same values dealt alternately into two groups: the means hardly differ
    const first = a.map((v, i) => (i % 2 ? b[i] : v));
    const second = a.map((v, i) => (i % 2 ? v : b[i]));
    expect(permutationPValue(first, second)).toBeGreaterThan(0.5);
  });

  it('smallestPValue: 2/C(n+m, n) for equal sizes, 1/C(n+m, n) otherwise; 3 + 3 seeds cannot reach 0.05', () => {
    expect(smallestPValue(5, 5)).toBeCloseTo(2 / 252, 12);
    expect(smallestPValue(3, 3)).toBeCloseTo(2 / 20, 12);
    expect(smallestPValue(5, 3)).toBeCloseTo(1 / 56, 12);
    expect(smallestPValue(3, 3)).toBeGreaterThan(0.05);
  });
});

describe('spreadPValue', () => {
  it('hand-worked: 4 + 4 with medians 0, deviations ±1, ±2 against ±10, ±20', () => {
    // pooled squares {1, 1, 4, 4, 100, 100, 400, 400}: only the observed split (mean 2.5 against
    // 250) and its mirror reach a ratio of 100; the next (one value swapped) is 226 / 26.5
    expect(spreadPValue([-1, 1, -2, 2], [-10, 10, -20, 20])).toBeCloseTo(2 / 70, 12);
    // ties at the median (odd sizes) count every split that is as extreme: 8 of 20 here
    expect(spreadPValue([-1, 0, 1], [-10, 0, 10])).toBeCloseTo(8 / 20, 12);
    expect(spreadPValue([-1, 0, 1], [-10, 0, 10])).toBeCloseTo(spreadOracle([-1, 0, 1], [-10, 0, 10]), 12);
  });

  it('does not see a difference of means: shifting one group leaves p unchanged', () => {
    const a = [0.83, 0.86, 0.8, 0.89, 0.78];
    const b = [0.82, 0.84, 0.82, 0.83, 0.81];
    expect(
      spreadPValue(
        a,
        b.map((v) => v + 0.3),
      ),
    ).toBeCloseTo(spreadPValue(a, b), 12);
    expect(
      permutationPValue(
        a,
        b.map((v) => v + 0.3),
      ),
    ).toBeLessThan(0.05);
  });

  it("issue #26's P-AUROC per seed: ours 4× the reference's std, 5 + 5 seeds", () => {
    const ours = [0.866, 0.89, 0.836, 0.805, 0.783];
    const reference = [0.821, 0.841, 0.822, 0.833, 0.815];
    const p = spreadPValue(ours, reference);
    expect(p).toBeCloseTo(spreadOracle(ours, reference), 12);
    expect(p).toBeLessThan(0.1);
  });

  it('equals the bit-mask oracle on random groups of unequal sizes; 1 for a group of one or no spread at all', () => {
    for (let t = 0; t < 30; t++) {
      // continuous values: no group sits wholly on its median
      const a = Array.from({ length: 2 + (t % 5) }, rand);
      const b = Array.from({ length: 2 + ((t * 3) % 6) }, () => rand() * (1 + (t % 3)));
      expect(spreadPValue(a, b), `${a} | ${b}`).toBeCloseTo(spreadOracle(a, b), 12);
    }
    expect(spreadPValue([1], [1, 2, 3])).toBe(1);
    expect(spreadPValue([1, 1, 1], [2, 2])).toBe(1);
  });
});
