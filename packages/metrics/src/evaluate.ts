/**
 * Every number one CFA evaluation reports, from plain arrays: I-AUROC, P-AUROC, P-AUPRO, the
 * reference code's P-PRO (ref), and F1-max at image and pixel level with the thresholds that reach them. The input is validated
 * once up front (errors name the argument, expected and received); the pixels are split and
 * sorted once and shared by P-AUROC, P-F1max and P-AUPRO. A metric with no value for this input
 * (a single class present) is NaN with the reason in `undefinedMetrics`, so a sweep cell still
 * reports the rest.
 *
 * Mirrors: anomalib's evaluator (`src/anomalib/metrics/evaluator.py`), which runs the configured
 * image and pixel metrics over one test set.
 *
 * @example
 * ```ts
 * import { computeAnomalyMetrics } from '@cfa/metrics';
 * const m = computeAnomalyMetrics({
 *   imageScores: [0.2, 0.9], imageLabels: [0, 1],
 *   maps: Float32Array.of(0.1, 0.2, 0.3, 0.2, 0.8, 0.25, 0.3, 0.1),
 *   masks: Uint8Array.of(0, 0, 0, 0, 1, 1, 0, 0),
 *   count: 2, height: 1, width: 4,
 * });
 * m.imageAuroc; // 1
 * m.pixelAuroc; // 0.8333… (10 of 12 pixel pairs ordered)
 * m.pixelAupro; // 0.5
 * ```
 */
import { MetricUndefinedError } from './errors';
import { type F1Max, f1MaxOfSorted } from './f1';
import { auproOfSorted } from './pro';
import { pixelProReference, rescaleFloat32 } from './pro-reference';
import { aurocOfSorted } from './roc';
import { sortedClasses } from './sorted-classes';
import {
  assertBinary,
  assertFinite,
  assertFprLimit,
  assertLength,
  checkMapsAndMasks,
  type MessageNames,
} from './validate';

export interface AnomalyMetricsInput {
  /** One score per test image, [count]; finite. */
  imageScores: ArrayLike<number>;
  /** 0 good / 1 anomalous per test image, [count]. */
  imageLabels: ArrayLike<number>;
  /** Anomaly maps, [count, height, width] row-major; finite (Float32Array typical). */
  maps: ArrayLike<number>;
  /** Ground-truth masks, [count, height, width] row-major; 0/1 (Uint8Array typical). */
  masks: ArrayLike<number>;
  count: number;
  height: number;
  width: number;
  /** P-AUPRO integration limit, in (0, 1]; default 0.3. */
  fprLimit?: number;
}

export interface AnomalyMetrics {
  imageAuroc: number;
  pixelAuroc: number;
  pixelAupro: number;
  /**
   * The CFA reference code's PRO number (`pixelProReference` on the maps min-max rescaled over the
   * test set, as its trainer does): "P-PRO (ref)", a different quantity from P-AUPRO.
   */
  pixelProReference: number;
  imageF1Max: number;
  /** Predict an image anomalous when its score ≥ this; NaN when imageF1Max is. */
  imageF1Threshold: number;
  pixelF1Max: number;
  /** Predict a pixel anomalous when its score ≥ this; NaN when pixelF1Max is. */
  pixelF1Threshold: number;
  /** Key of each NaN metric (imageAuroc, pixelAupro, imageF1Max, …) → why it has no value. */
  undefinedMetrics: Record<string, string>;
}

const CONTEXT = 'computeAnomalyMetrics';
const IMAGE: MessageNames = {
  metric: 'I-AUROC',
  scores: 'imageScores',
  labels: 'imageLabels',
  samples: 'image labels',
};
const PIXEL: MessageNames = { metric: 'P-AUROC', scores: 'maps', labels: 'masks', samples: 'mask pixels' };

/**
 * @param input - image scores and labels [count], maps and masks [count, height, width], the
 *   shape, and the P-AUPRO fprLimit (default 0.3).
 * @returns all seven numbers; a metric undefined for this input (all image labels equal, no
 *   anomalous or no normal pixel) is NaN, with its F1 threshold, and `undefinedMetrics` says why.
 * @throws Error when count/height/width are not positive integers (0 = empty input), a length does
 *   not match them, imageScores or maps hold NaN/±Infinity (how many, where the first is), a label
 *   or mask value is not 0/1, or fprLimit is outside (0, 1]. These are caller bugs and are not caught.
 */
export function computeAnomalyMetrics(input: AnomalyMetricsInput): AnomalyMetrics {
  const { imageScores, imageLabels, count, fprLimit = 0.3 } = input;
  checkMapsAndMasks(CONTEXT, input);
  assertLength(CONTEXT, 'imageScores', imageScores, count, 'one per image: count');
  assertLength(CONTEXT, 'imageLabels', imageLabels, count, 'one per image: count');
  assertFinite(CONTEXT, 'imageScores', imageScores);
  assertBinary(CONTEXT, 'imageLabels', imageLabels);
  assertFprLimit(CONTEXT, fprLimit);

  const undefinedMetrics: Record<string, string> = {};
  const attempt = <T>(key: string, compute: () => T, fallback: T): T => {
    try {
      return compute();
    } catch (error) {
      if (!(error instanceof MetricUndefinedError)) throw error;
      undefinedMetrics[key] = error.message;
      return fallback;
    }
  };
  const noF1: F1Max = { f1: NaN, threshold: NaN, precision: NaN, recall: NaN };

  const images = sortedClasses(imageScores, imageLabels);
  const pixels = sortedClasses(input.maps, input.masks);
  const imageAuroc = attempt('imageAuroc', () => aurocOfSorted(images, IMAGE), NaN);
  const imageF1 = attempt('imageF1Max', () => f1MaxOfSorted(images, { ...IMAGE, metric: 'I-F1max' }), noF1);
  const pixelAuroc = attempt('pixelAuroc', () => aurocOfSorted(pixels, PIXEL), NaN);
  const pixelAupro = attempt('pixelAupro', () => auproOfSorted({ ...input, fprLimit }, pixels), NaN);
  const pixelProRef = attempt(
    'pixelProReference',
    () => pixelProReference({ ...input, maps: rescaleFloat32(input.maps), fprLimit }),
    NaN,
  );
  const pixelF1 = attempt('pixelF1Max', () => f1MaxOfSorted(pixels, { ...PIXEL, metric: 'P-F1max' }), noF1);
  return {
    imageAuroc,
    pixelAuroc,
    pixelAupro,
    pixelProReference: pixelProRef,
    imageF1Max: imageF1.f1,
    imageF1Threshold: imageF1.threshold,
    pixelF1Max: pixelF1.f1,
    pixelF1Threshold: pixelF1.threshold,
    undefinedMetrics,
  };
}
