/**
 * Two-sample permutation tests over seeds: of every way to split the pooled values into groups of
 * the two sizes, the share whose statistic is at least the observed one (two-sided). With 5 + 5
 * seeds that is all 252 splits (the smallest p is 2/252); with 10 + 10, 184 756. Beyond
 * `EXACT_SPLITS` splits a seeded Monte Carlo sample stands in, with p = (1 + hits) / (1 + draws)
 * (the observed split counts once, so p never reaches 0).
 *
 * - `permutationPValue`: the difference of means. Why beside mean ± 2 std: on a saturated metric
 *   (every reference seed at 100 %) the band has zero width and flags any one seed below 100 %,
 *   whatever the other seeds say; the test asks whether the two groups could be one population.
 * - `spreadPValue`: the variance ratio (issue #26: is our seed-to-seed spread the reference's?).
 *   The F test of a variance ratio is exact only for normal values, and metrics over seeds are
 *   bounded and skewed (AUROC near 0.5 or 1); permuting the raw values instead would mix a
 *   difference of means into the spread. So each group is first centred on its own median
 *   (Brown & Forsythe 1974; the permutation form in Good, "Permutation Tests", 2nd ed., §3.7.2),
 *   and the statistic is |ln| of the ratio of the two groups' mean squared deviations.
 */
import { createRng } from '@cfa/tensor-runtime';

/** Above this many splits the tests sample `SAMPLED_SPLITS` of them instead of visiting all. */
export const EXACT_SPLITS = 500_000;
export const SAMPLED_SPLITS = 200_000;

/** C(n, k) as a float (exact for the sizes that are enumerated). */
function choose(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

/**
 * The share of splits of `values` into a first group of `n` and the rest whose statistic — a
 * function of the first group's sum of `values` — is at least `statistic(observedSum)`.
 */
function splitPValue(values: number[], n: number, observedSum: number, statistic: (sumA: number) => number): number {
  const observed = statistic(observedSum);
  // relative slack so that splits equal to the observed one up to rounding count as "at least"
  const limit = observed - 1e-12 * Math.max(1, Math.abs(observed));
  if (choose(values.length, n) > EXACT_SPLITS) {
    const rng = createRng(values.length * 1000 + n).fork('permutation-test');
    const index = Array.from(values, (_, i) => i);
    let hits = 0;
    for (let d = 0; d < SAMPLED_SPLITS; d++) {
      // the first n of a partial Fisher–Yates shuffle: a uniform n-subset
      let sumA = 0;
      for (let k = 0; k < n; k++) {
        const j = k + rng.int(index.length - k);
        [index[k], index[j]] = [index[j], index[k]];
        sumA += values[index[k]];
      }
      if (statistic(sumA) >= limit) hits++;
    }
    return (1 + hits) / (1 + SAMPLED_SPLITS);
  }
  let atLeast = 0;
  let splits = 0;
  const visit = (start: number, chosen: number, sumA: number) => {
    if (chosen === n) {
      splits++;
      if (statistic(sumA) >= limit) atLeast++;
      return;
    }
    for (let i = start; i <= values.length - (n - chosen); i++) visit(i + 1, chosen + 1, sumA + values[i]);
  };
  visit(0, 0, 0);
  return atLeast / splits;
}

const sum = (v: number[]) => v.reduce((s, x) => s + x, 0);

/** Two-sided p of the difference of means; 1 when either group is empty. */
export function permutationPValue(a: number[], b: number[]): number {
  if (a.length === 0 || b.length === 0) return 1;
  const pooled = [...a, ...b];
  const total = sum(pooled);
  const n = a.length;
  const m = b.length;
  return splitPValue(pooled, n, sum(a), (sumA) => Math.abs(sumA / n - (total - sumA) / m));
}

function median(values: number[]): number {
  const s = [...values].sort((x, y) => x - y);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/**
 * Two-sided p of the spread: the variance ratio of the median-centred groups (see above); 1 when
 * either group has fewer than two values or every value sits on its group's median.
 */
export function spreadPValue(a: number[], b: number[]): number {
  if (a.length < 2 || b.length < 2) return 1;
  const squaredDeviations = (v: number[]) => {
    const centre = median(v);
    return v.map((x) => (x - centre) ** 2);
  };
  const da = squaredDeviations(a);
  const pooled = [...da, ...squaredDeviations(b)];
  const total = sum(pooled);
  if (total === 0) return 1;
  const n = a.length;
  const m = b.length;
  // a group whose values all sit on its median has dispersion 0: a floor far below any real one
  const floor = 1e-12 * (total / pooled.length);
  return splitPValue(pooled, n, sum(da), (sumA) =>
    Math.abs(Math.log((sumA / n + floor) / ((total - sumA) / m + floor))),
  );
}

/**
 * The smallest p the tests can give for groups of these sizes (fully separated groups): with 3 + 3
 * seeds it is 0.1, so no difference could ever be significant at 0.05 — a "p ≥ 0.05" then says
 * nothing, and callers must not read it as agreement.
 */
export function smallestPValue(sizeA: number, sizeB: number): number {
  // only the observed split, and its mirror for equal sizes, is as extreme
  return (sizeA === sizeB ? 2 : 1) / choose(sizeA + sizeB, sizeA);
}
