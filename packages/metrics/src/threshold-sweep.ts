/**
 * The sweep that every curve here is made of: thresholds from the highest score down, one step per
 * distinct score — tied scores of both classes move together, so no result depends on sample order
 * — with how many positives and negatives score ≥ the threshold. F1-max, the ROC curve and the PRO
 * curve are this sweep with different bookkeeping at each step.
 *
 * Mirrors: torchmetrics' `_binary_clf_curve` (the cumulative TP/FP counts at each distinct
 * threshold of a descending sort), on both classes sorted apart instead of one argsort.
 *
 * @example
 * ```ts
 * forEachThreshold(sortedClasses(Float32Array.of(0.8, 0.1, 0.4), Uint8Array.of(1, 0, 0)), (t, tp, fp) => {
 *   console.log(t, tp, fp); // 0.8 1 0, then 0.4 1 1, then 0.1 1 2
 * });
 * ```
 */
import type { SortedClasses } from './sorted-classes';

/**
 * @param classes - both classes' scores, each ascending.
 * @param visit - called once per distinct score, descending, with the counts of positives and
 *   negatives scoring ≥ it; returning false ends the sweep.
 */
export function forEachThreshold(
  { negatives, positives }: SortedClasses,
  visit: (threshold: number, positivesAbove: number, negativesAbove: number) => boolean | void,
): void {
  let p = positives.length - 1;
  let n = negatives.length - 1;
  let tp = 0;
  let fp = 0;
  while (p >= 0 || n >= 0) {
    const t = p < 0 ? negatives[n] : n < 0 ? positives[p] : Math.max(positives[p], negatives[n]);
    while (p >= 0 && positives[p] === t) {
      tp++;
      p--;
    }
    while (n >= 0 && negatives[n] === t) {
      fp++;
      n--;
    }
    if (visit(t, tp, fp) === false) return;
  }
}
