/**
 * A metric that has no value for its input (a single class present, no anomalous region): a typed
 * error, so callers can report "undefined, because …" instead of a number.
 */
export class MetricUndefinedError extends Error {
  constructor(readonly metric: string, reason: string) {
    super(`${metric} is undefined: ${reason}`);
    this.name = 'MetricUndefinedError';
  }
}

export type Scores = ArrayLike<number>;
export type Labels = ArrayLike<number>;

/** Rejects empty input, mismatched lengths, non-finite scores and labels other than 0/1. */
export function checkScoresAndLabels(metric: string, scores: Scores, labels: Labels, names: [string, string] = ['scores', 'labels']): void {
  if (scores.length !== labels.length) {
    throw new Error(`${metric}: ${names[0]} has ${scores.length} values but ${names[1]} has ${labels.length}`);
  }
  if (scores.length === 0) throw new Error(`${metric}: ${names[0]} is empty`);
  let bad = 0, first = -1;
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad) throw new Error(`${metric}: ${names[0]} holds ${bad} non-finite value${bad === 1 ? '' : 's'} (first at index ${first}: ${scores[first]})`);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) throw new Error(`${metric}: ${names[1]} must be 0 or 1, found ${labels[i]} at index ${i}`);
  }
}

/** Scores of each class, sorted ascending (native typed-array sort: fast on millions of pixels). */
export function splitByLabel(scores: Scores, labels: Labels): { negatives: Float64Array; positives: Float64Array } {
  let nPos = 0;
  for (let i = 0; i < labels.length; i++) nPos += labels[i];
  const positives = new Float64Array(nPos);
  const negatives = new Float64Array(labels.length - nPos);
  for (let i = 0, p = 0, n = 0; i < labels.length; i++) {
    if (labels[i]) positives[p++] = scores[i];
    else negatives[n++] = scores[i];
  }
  return { negatives: negatives.sort(), positives: positives.sort() };
}
