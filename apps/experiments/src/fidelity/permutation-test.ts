/**
 * The exact two-sample permutation test on the difference of means: of every way to split the
 * pooled seeds into groups of the two sizes, the share whose |mean difference| is at least the
 * observed one (two-sided). With 5 + 5 seeds that is all 252 splits, so the smallest p is 2/252.
 * Why beside mean ± 2 std: on a saturated metric (every reference seed at 100 %) the band has zero
 * width and flags any one seed below 100 %, whatever the other seeds say; the test asks whether
 * the two groups of seeds could be one population.
 */

/** Two-sided p-value; 1 when either group is empty. */
export function permutationPValue(a: number[], b: number[]): number {
  if (a.length === 0 || b.length === 0) return 1;
  const pooled = [...a, ...b];
  const total = pooled.reduce((s, v) => s + v, 0);
  const n = a.length;
  const m = b.length;
  const difference = (sumA: number) => Math.abs(sumA / n - (total - sumA) / m);
  const observed = difference(a.reduce((s, v) => s + v, 0));
  // relative slack so that splits equal to the observed one up to rounding count as "at least"
  const limit = observed - 1e-12 * Math.max(1, Math.abs(observed));
  let atLeast = 0;
  let splits = 0;
  const visit = (start: number, chosen: number, sumA: number) => {
    if (chosen === n) {
      splits++;
      if (difference(sumA) >= limit) atLeast++;
      return;
    }
    for (let i = start; i <= pooled.length - (n - chosen); i++) visit(i + 1, chosen + 1, sumA + pooled[i]);
  };
  visit(0, 0, 0);
  return atLeast / splits;
}

/**
 * The smallest p the test can give for groups of these sizes (fully separated groups): with 3 + 3
 * seeds it is 0.1, so no difference could ever be significant at 0.05 — a "p ≥ 0.05" then says
 * nothing, and callers must not read it as agreement.
 */
export function smallestPValue(sizeA: number, sizeB: number): number {
  // all 0 against all 1: only the observed split (and its mirror, for equal sizes) is as extreme
  return permutationPValue(new Array<number>(sizeA).fill(0), new Array<number>(sizeB).fill(1));
}
