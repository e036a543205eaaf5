/**
 * Area under the ROC curve (anomalib `metrics/auroc.py`), computed exactly as the Mann–Whitney
 * statistic: the probability that a random anomalous sample scores above a random normal one,
 * ties counting ½ — equal to the trapezoid area under the ROC curve with tied scores as one step.
 * Sorting each class separately keeps it fast on millions of pixels.
 *
 * @example
 * ```ts
 * auroc({ scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1] }); // 0.75
 * ```
 */
import { checkScoresAndLabels, type Labels, MetricUndefinedError, type Scores, splitByLabel } from './errors';

/**
 * Args: scores (any finite numbers), labels (0 normal / 1 anomalous), same length.
 * Returns: AUROC in [0, 1].
 * Raises: MetricUndefinedError when only one class is present; Error on bad input.
 */
export function auroc({ scores, labels, name = 'AUROC' }: { scores: Scores; labels: Labels; name?: string }): number {
  checkScoresAndLabels(name, scores, labels);
  const { negatives, positives } = splitByLabel(scores, labels);
  if (positives.length === 0 || negatives.length === 0) {
    const only = positives.length === 0 ? 0 : 1;
    throw new MetricUndefinedError(name, `all ${labels.length} labels are ${only} (need both classes)`);
  }
  // for each positive: negatives strictly below count 1, equal count ½
  let below = 0, equalEnd = 0, sum = 0;
  for (const p of positives) {
    while (below < negatives.length && negatives[below] < p) below++;
    if (equalEnd < below) equalEnd = below;
    while (equalEnd < negatives.length && negatives[equalEnd] === p) equalEnd++;
    sum += below + 0.5 * (equalEnd - below);
  }
  return sum / (positives.length * negatives.length);
}
