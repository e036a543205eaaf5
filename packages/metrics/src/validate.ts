/**
 * Input checks shared by every metric. Each message names the metric, the argument, what was
 * expected and what was received, and for bad values how many there are and where the first is
 * (as image/row/column for maps and masks).
 *
 * Mirrors: anomalib `src/anomalib/metrics/pimo/_validate.py` (validation kept apart from the pure
 * maths) and tfjs `util.assert` messages that show the values received.
 *
 * @example
 * ```ts
 * import { checkScoresAndLabels } from './validate';
 * checkScoresAndLabels({ metric: 'AUROC', scores: 'scores', labels: 'labels', samples: 'labels' }, [0.1, NaN], [0, 1]);
 * // Error: AUROC: scores holds 1 non-finite value (NaN or ±Infinity); the first is NaN at index 1
 * ```
 */

/** How messages name a metric and its arguments. */
export interface MessageNames {
  /** Display name, e.g. "I-AUROC". */
  metric: string;
  /** Name of the scores argument, e.g. "imageScores". */
  scores: string;
  /** Name of the labels argument, e.g. "imageLabels". */
  labels: string;
  /** What one label is, plural, as in "all 30 image labels are 0". */
  samples: string;
}

/** Where element `index` sits, for messages. */
export type Locate = (index: number) => string;

export const atIndex: Locate = (index) => `index ${index}`;

/** Locates an element of a [count, height, width] array as image, row, column. */
export function pixelLocator(height: number, width: number): Locate {
  return (index) => {
    const image = Math.floor(index / (height * width));
    const within = index - image * height * width;
    return `index ${index} (image ${image}, row ${Math.floor(within / width)}, column ${within % width})`;
  };
}

/**
 * @throws Error when `value` is not a positive safe integer (0 reads as empty input).
 */
export function assertPositiveInteger(metric: string, name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(
      `${metric}: ${name} must be a positive integer, got ${value}${value === 0 ? ' (empty input)' : ''}`,
    );
  }
}

/**
 * @param why - where the expectation comes from, for the message.
 * @throws Error when `values.length !== expected`.
 */
export function assertLength(
  metric: string,
  name: string,
  values: ArrayLike<number>,
  expected: number,
  why: string,
): void {
  if (values.length !== expected) {
    throw new Error(`${metric}: ${name} has ${values.length} values, expected ${expected} (${why})`);
  }
}

/** @throws Error when `values` holds NaN or ±Infinity: how many, and the first one's place. */
export function assertFinite(metric: string, name: string, values: ArrayLike<number>, locate: Locate = atIndex): void {
  let bad = 0;
  let first = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // v - v is 0 for finite numbers and NaN for NaN and ±Infinity: one comparison per value
    if (v - v !== 0) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad > 0) {
    throw new Error(
      `${metric}: ${name} holds ${bad} non-finite value${bad === 1 ? '' : 's'} (NaN or ±Infinity); the first is ${values[first]} at ${locate(first)}`,
    );
  }
}

/** @throws Error when `values` holds anything but 0 and 1: how many, and the first one's place. */
export function assertBinary(metric: string, name: string, values: ArrayLike<number>, locate: Locate = atIndex): void {
  let bad = 0;
  let first = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== 0 && v !== 1) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad > 0) {
    const hint = values[first] === 255 ? ' (a 0/255 mask? divide it by 255)' : '';
    throw new Error(
      `${metric}: ${name} must hold only 0 and 1, but ${bad} value${bad === 1 ? '' : 's'} do${bad === 1 ? 'es' : ''} not; the first is ${values[first]} at ${locate(first)}${hint}`,
    );
  }
}

/**
 * The checks of every single-metric function taking parallel scores and labels.
 *
 * @throws Error on a length mismatch, empty input, a non-finite score or a label other than 0/1.
 */
export function checkScoresAndLabels(
  names: MessageNames,
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  locate: Locate = atIndex,
): void {
  assertLength(names.metric, names.labels, labels, scores.length, `one per value of ${names.scores}`);
  if (scores.length === 0)
    throw new Error(`${names.metric}: ${names.scores} is empty (need at least one sample of each class)`);
  assertFinite(names.metric, names.scores, scores, locate);
  assertBinary(names.metric, names.labels, labels, locate);
}

/** Shapes of a stack of anomaly maps and their ground-truth masks. */
export interface MapsAndMasks {
  /** Anomaly maps, [count, height, width] row-major; finite. */
  maps: ArrayLike<number>;
  /** Ground truth, [count, height, width] row-major; 0 normal / 1 anomalous. */
  masks: ArrayLike<number>;
  count: number;
  height: number;
  width: number;
}

/**
 * @throws Error when count/height/width are not positive integers, maps or masks do not hold
 * count·height·width values, a map value is non-finite or a mask value is not 0/1.
 */
export function checkMapsAndMasks(metric: string, { maps, masks, count, height, width }: MapsAndMasks): void {
  assertPositiveInteger(metric, 'count', count);
  assertPositiveInteger(metric, 'height', height);
  assertPositiveInteger(metric, 'width', width);
  const why = `count ${count} × height ${height} × width ${width}`;
  assertLength(metric, 'maps', maps, count * height * width, why);
  assertLength(metric, 'masks', masks, count * height * width, why);
  const locate = pixelLocator(height, width);
  assertFinite(metric, 'maps', maps, locate);
  assertBinary(metric, 'masks', masks, locate);
}

/** @throws Error when the FPR integration limit is not in (0, 1]. */
export function assertFprLimit(metric: string, fprLimit: number): void {
  if (!(fprLimit > 0 && fprLimit <= 1)) throw new Error(`${metric}: fprLimit must be in (0, 1], got ${fprLimit}`);
}
