/**
 * F1-max (anomalib `metrics/f1_max.py`): the best F1 over all thresholds, predicting "anomalous"
 * when score ≥ threshold; tied scores move together. Also returns the threshold reaching it.
 *
 * @example
 * ```ts
 * f1Max({ scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1] }); // { f1: 0.8, threshold: 0.35, precision: 0.667, recall: 1 }
 * ```
 */
import { checkScoresAndLabels, type Labels, MetricUndefinedError, type Scores, splitByLabel } from './errors';

export interface F1Max {
  f1: number;
  threshold: number;
  precision: number;
  recall: number;
}

/** Raises MetricUndefinedError when no sample is anomalous (recall has no denominator). */
export function f1Max({ scores, labels, name = 'F1-max' }: { scores: Scores; labels: Labels; name?: string }): F1Max {
  checkScoresAndLabels(name, scores, labels);
  const { negatives, positives } = splitByLabel(scores, labels);
  if (positives.length === 0) throw new MetricUndefinedError(name, `no anomalous sample among ${labels.length} (recall undefined)`);
  let p = positives.length - 1, n = negatives.length - 1;
  let tp = 0, fp = 0;
  let best: F1Max = { f1: -1, threshold: Infinity, precision: 0, recall: 0 };
  while (p >= 0 || n >= 0) {
    const t = Math.max(p >= 0 ? positives[p] : -Infinity, n >= 0 ? negatives[n] : -Infinity);
    while (p >= 0 && positives[p] === t) { tp++; p--; }
    while (n >= 0 && negatives[n] === t) { fp++; n--; }
    const precision = tp / (tp + fp);
    const recall = tp / positives.length;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    if (f1 > best.f1) best = { f1, threshold: t, precision, recall };
  }
  return best;
}
