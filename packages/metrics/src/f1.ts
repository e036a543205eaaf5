/**
 * F1-max: the best F1 score over all thresholds, with the threshold that reaches it. A sample is
 * predicted anomalous when its score ≥ threshold; every distinct score is a threshold and tied
 * scores move together (one step), so the result does not depend on sample order. Among
 * thresholds with the same best F1 the lowest one is returned, as anomalib's `argmax` over
 * ascending thresholds does. F1 is computed as 2·TP / (2·TP + FP + FN), so equal fractions give
 * bit-identical doubles and that tie rule is exact.
 *
 * Mirrors: anomalib `src/anomalib/metrics/f1_score.py` (`F1Max` over torchmetrics'
 * precision–recall curve); the threshold is the one anomalib's `F1AdaptiveThreshold` would pick.
 *
 * @example
 * ```ts
 * import { f1Max } from '@cfa/metrics';
 * f1Max({ scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1] });
 * // { f1: 0.8, threshold: 0.35, precision: 0.666…, recall: 1 }
 * ```
 */
import { MetricUndefinedError } from './errors';
import { sortedClasses, type SortedClasses } from './sorted-classes';
import { forEachThreshold } from './threshold-sweep';
import { checkScoresAndLabels, type MessageNames } from './validate';

export interface F1Max {
  /** Best F1 in (0, 1]. */
  f1: number;
  /** The lowest threshold reaching it: predict anomalous when score ≥ threshold. */
  threshold: number;
  /** TP / (TP + FP) at that threshold. */
  precision: number;
  /** TP / (TP + FN) at that threshold. */
  recall: number;
}

export interface F1MaxParams {
  /** Scores, higher = more anomalous, [n]; finite. */
  scores: ArrayLike<number>;
  /** 0 normal / 1 anomalous, [n]. */
  labels: ArrayLike<number>;
  /** How messages name the metric and arguments; default "F1-max", "scores", "labels". */
  names?: Partial<MessageNames>;
}

const DEFAULT_NAMES: MessageNames = { metric: 'F1-max', scores: 'scores', labels: 'labels', samples: 'labels' };

/**
 * The best F1 of `scores` against `labels` over all thresholds.
 *
 * @returns the best F1, its (lowest) threshold, precision and recall there. All-equal scores give
 *   the single threshold that predicts everything anomalous: F1 = 2P / (2P + N).
 * @throws MetricUndefinedError when all labels are 0 (recall has no denominator) or all 1 (F1 = 1
 *   trivially by predicting everything anomalous: no information about the scores).
 * @throws Error on empty input, a length mismatch, a non-finite score, a label other than 0/1.
 */
export function f1Max({ scores, labels, names }: F1MaxParams): F1Max {
  const all = { ...DEFAULT_NAMES, ...names };
  checkScoresAndLabels(all, scores, labels);
  return f1MaxOfSorted(sortedClasses(scores, labels), all);
}

/** `f1Max` on already validated, sorted classes (shared by `computeAnomalyMetrics`). */
export function f1MaxOfSorted({ negatives, positives }: SortedClasses, names: MessageNames): F1Max {
  const total = negatives.length + positives.length;
  if (positives.length === 0) {
    throw new MetricUndefinedError(
      names.metric,
      `all ${total} ${names.samples} are 0 (no anomalous sample, so recall is undefined)`,
    );
  }
  if (negatives.length === 0) {
    throw new MetricUndefinedError(
      names.metric,
      `all ${total} ${names.samples} are 1 (need both classes; predicting everything anomalous gives F1 = 1 trivially)`,
    );
  }
  const anomalous = positives.length;
  let best = -1;
  let bestThreshold = NaN;
  let bestTp = 0;
  let bestFp = 0;
  // thresholds descending; `>=` keeps the lowest threshold among equal F1
  forEachThreshold({ negatives, positives }, (t, tp, fp) => {
    // 2TP / (2TP + FP + FN) with FN = P − TP
    const f1 = (2 * tp) / (tp + fp + anomalous);
    if (f1 >= best) {
      best = f1;
      bestThreshold = t;
      bestTp = tp;
      bestFp = fp;
    }
  });
  return { f1: best, threshold: bestThreshold, precision: bestTp / (bestTp + bestFp), recall: bestTp / anomalous };
}
