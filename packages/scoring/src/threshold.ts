/**
 * A decision threshold from normal data alone: the score that a chosen fraction `fpr` of normal
 * scores exceeds. Deployed CFA models label an image (its score) or a pixel (its map value)
 * anomalous when it is above the threshold, so on data like the normal samples it was set on the
 * expected false-positive rate is `fpr`. Test labels never enter: the F1-optimal threshold on the
 * test set (`f1Max` in @cfa/metrics) is a reported metric, not a deployable threshold (cfa-spec.md,
 * "Model selection must not look at test labels").
 *
 * The quantile is numpy's default (`np.quantile(x, 1 − fpr)`, linear interpolation between the
 * two closest order statistics, Hyndman & Fan type 7), so a user can recompute it from the scores.
 *
 * @example
 * ```ts
 * thresholdAtFalsePositiveRate({ scores: heldOutImageScores, fpr: 0.01 }); // the 99th percentile
 * ```
 */

export interface ThresholdParams {
  /** Scores of normal samples (image scores, or every pixel of their maps). */
  scores: ArrayLike<number>;
  /** Fraction of normal scores the threshold lets through as false positives, in [0, 1). */
  fpr: number;
}

/** The (1 − fpr)-quantile of `scores`. */
export function thresholdAtFalsePositiveRate({ scores, fpr }: ThresholdParams): number {
  if (!(fpr >= 0 && fpr < 1)) throw new Error(`thresholdAtFalsePositiveRate: fpr must be in [0, 1), got ${fpr}`);
  const n = scores.length;
  if (n === 0) throw new Error('thresholdAtFalsePositiveRate: no scores to set a threshold from');
  const sorted = Float64Array.from(scores).sort();
  if (Number.isNaN(sorted[n - 1])) throw new Error('thresholdAtFalsePositiveRate: the scores contain NaN');
  const h = (n - 1) * (1 - fpr);
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}
