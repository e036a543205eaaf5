/**
 * Area under the ROC curve, exact: the Mann–Whitney U statistic over (anomalous, normal) pairs,
 * a pair counting 1 when the anomalous sample scores higher and ½ on a tie. That equals the
 * trapezoid area under the ROC curve whose points are the distinct thresholds (tied scores move
 * together), i.e. sklearn's `roc_auc_score` and torchmetrics' exact `binary_auroc`. I-AUROC is
 * this on image scores, P-AUROC on every pixel of every map.
 *
 * Each class is sorted on its own (native typed-array sort) and the pairs are counted with one
 * merge, so ~10 million pixels take about a second and no threshold binning is involved.
 *
 * Mirrors: anomalib `src/anomalib/metrics/auroc.py` (AUROC over torchmetrics' ROC curve).
 *
 * @example
 * ```ts
 * import { auroc, rocCurve } from '@cfa/metrics';
 * auroc({ scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1] }); // 0.75
 * rocCurve({ scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1] }).fpr; // Float64Array [0, 0, 0.5, 0.5, 1]
 * ```
 */
import { MetricUndefinedError } from './errors';
import { sortedClasses, type SortedClasses } from './sorted-classes';
import { forEachThreshold } from './threshold-sweep';
import { checkScoresAndLabels, type MessageNames } from './validate';

export interface AurocParams {
  /** Scores, higher = more anomalous, [n]; finite. Float32Array typical. */
  scores: ArrayLike<number>;
  /** 0 normal / 1 anomalous, [n]. Uint8Array typical. */
  labels: ArrayLike<number>;
  /** How messages name the metric and arguments; default "AUROC", "scores", "labels". */
  names?: Partial<MessageNames>;
}

export interface RocCurveParams extends AurocParams {
  /** Drop points on the straight line between their neighbours (lossless); default true. */
  dropIntermediate?: boolean;
}

export interface RocCurve {
  /** False positive rate per point, non-decreasing from 0 to 1. */
  fpr: Float64Array;
  /** True positive rate per point, non-decreasing from 0 to 1. */
  tpr: Float64Array;
  /**
   * Threshold per point (predict anomalous when score ≥ threshold), decreasing; the first is
   * Infinity (nothing predicted anomalous: the point (0, 0)).
   */
  thresholds: Float64Array;
}

const DEFAULT_NAMES: MessageNames = { metric: 'AUROC', scores: 'scores', labels: 'labels', samples: 'labels' };

function requireBothClasses({ negatives, positives }: SortedClasses, names: MessageNames): void {
  if (negatives.length === 0 || positives.length === 0) {
    const total = negatives.length + positives.length;
    throw new MetricUndefinedError(
      names.metric,
      `all ${total} ${names.samples} are ${negatives.length === 0 ? 1 : 0} (need both classes)`,
    );
  }
}

/**
 * Area under the ROC curve of `scores` (any scale, higher = more anomalous) against `labels`.
 *
 * @returns AUROC in [0, 1]: 1 for perfect separation, 0 for inverted, 0.5 when all scores are equal.
 * @throws MetricUndefinedError when only one class is present ("all 30 image labels are 0 (need
 *   both classes)").
 * @throws Error on empty input, a length mismatch, a non-finite score, a label other than 0/1.
 */
export function auroc({ scores, labels, names }: AurocParams): number {
  const all = { ...DEFAULT_NAMES, ...names };
  checkScoresAndLabels(all, scores, labels);
  return aurocOfSorted(sortedClasses(scores, labels), all);
}

/** `auroc` on already validated, sorted classes (shared by `computeAnomalyMetrics`). */
export function aurocOfSorted(sorted: SortedClasses, names: MessageNames): number {
  requireBothClasses(sorted, names);
  const { negatives, positives } = sorted;
  // For each positive (ascending): `below` = negatives strictly lower (1 each), the run up to
  // `equalEnd` = negatives tied with it (½ each). Both pointers only move forward.
  let below = 0;
  let equalEnd = 0;
  let pairs = 0;
  for (let i = 0; i < positives.length; i++) {
    const p = positives[i];
    while (below < negatives.length && negatives[below] < p) below++;
    if (equalEnd < below) equalEnd = below;
    while (equalEnd < negatives.length && negatives[equalEnd] === p) equalEnd++;
    // integers and halves up to P·N < 2^52 are exact in a double
    pairs += below + 0.5 * (equalEnd - below);
  }
  return pairs / (positives.length * negatives.length);
}

/**
 * The ROC curve, one point per distinct threshold, for plots. Its trapezoid area is `auroc`.
 * `dropIntermediate` drops the points on the straight line between their neighbours (an exact
 * integer test), so the curve and its area are unchanged but runs of one-class thresholds (most of
 * a pixel ROC) collapse to one segment.
 *
 * @returns fpr, tpr and thresholds, from (0, 0) at threshold Infinity to (1, 1).
 * @throws MetricUndefinedError when only one class is present.
 * @throws Error on empty input, a length mismatch, a non-finite score, a label other than 0/1.
 */
export function rocCurve({ scores, labels, dropIntermediate = true, names }: RocCurveParams): RocCurve {
  const all = { ...DEFAULT_NAMES, ...names };
  checkScoresAndLabels(all, scores, labels);
  const sorted = sortedClasses(scores, labels);
  requireBothClasses(sorted, all);
  const { negatives, positives } = sorted;
  const fps = [0];
  const tps = [0];
  const thresholds = [Infinity];
  forEachThreshold(sorted, (t, tp, fp) => {
    const last = fps.length - 1;
    // the last kept point lies on the segment from the one before it to (fp, tp): replace it
    if (
      dropIntermediate &&
      last >= 1 &&
      (fps[last] - fps[last - 1]) * (tp - tps[last]) === (tps[last] - tps[last - 1]) * (fp - fps[last])
    ) {
      fps[last] = fp;
      tps[last] = tp;
      thresholds[last] = t;
    } else {
      fps.push(fp);
      tps.push(tp);
      thresholds.push(t);
    }
  });
  return {
    fpr: Float64Array.from(fps, (v) => v / negatives.length),
    tpr: Float64Array.from(tps, (v) => v / positives.length),
    thresholds: Float64Array.from(thresholds),
  };
}
