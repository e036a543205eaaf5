/**
 * Every number a CFA evaluation reports, from plain arrays: I-AUROC, P-AUROC, P-AUPRO, and F1-max
 * at image and pixel level with their thresholds. A metric with no value for this input (a single
 * class present) is NaN, with the reason in `undefinedMetrics`, so a sweep cell still reports the
 * rest.
 *
 * @example
 * ```ts
 * const m = computeAnomalyMetrics({ imageScores, imageLabels, maps, masks, count, height: 224, width: 224 });
 * m.pixelAupro;
 * ```
 */
import { MetricUndefinedError } from './errors';
import { f1Max } from './f1';
import { aupro } from './pro';
import { auroc } from './roc';

export interface AnomalyMetricsInput {
  imageScores: ArrayLike<number>;
  imageLabels: ArrayLike<number>;
  /** [count, height, width]. */
  maps: ArrayLike<number>;
  /** 0/1 [count, height, width]. */
  masks: ArrayLike<number>;
  count: number;
  height: number;
  width: number;
  fprLimit?: number;
}

export interface AnomalyMetrics {
  imageAuroc: number;
  pixelAuroc: number;
  pixelAupro: number;
  imageF1Max: number;
  imageF1Threshold: number;
  pixelF1Max: number;
  pixelF1Threshold: number;
  /** metric → why it is NaN. */
  undefinedMetrics: Record<string, string>;
}

export function computeAnomalyMetrics(input: AnomalyMetricsInput): AnomalyMetrics {
  const { imageScores, imageLabels, maps, masks, count, height, width } = input;
  if (imageScores.length !== count) throw new Error(`computeAnomalyMetrics: imageScores has ${imageScores.length} values, count is ${count}`);
  if (maps.length !== count * height * width) throw new Error(`computeAnomalyMetrics: maps has ${maps.length} values, [${count}, ${height}, ${width}] needs ${count * height * width}`);
  if (masks.length !== maps.length) throw new Error(`computeAnomalyMetrics: masks has ${masks.length} values, maps has ${maps.length}`);
  const undefinedMetrics: Record<string, string> = {};
  const attempt = <T>(key: string, fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (error) {
      if (!(error instanceof MetricUndefinedError)) throw error;
      undefinedMetrics[key] = error.message;
      return fallback;
    }
  };
  const noF1 = { f1: NaN, threshold: NaN, precision: NaN, recall: NaN };
  const imageF1 = attempt('imageF1Max', () => f1Max({ scores: imageScores, labels: imageLabels, name: 'I-F1max' }), noF1);
  const pixelF1 = attempt('pixelF1Max', () => f1Max({ scores: maps, labels: masks, name: 'P-F1max' }), noF1);
  return {
    imageAuroc: attempt('imageAuroc', () => auroc({ scores: imageScores, labels: imageLabels, name: 'I-AUROC' }), NaN),
    pixelAuroc: attempt('pixelAuroc', () => auroc({ scores: maps, labels: masks, name: 'P-AUROC' }), NaN),
    pixelAupro: attempt('pixelAupro', () => aupro({ maps, masks, count, height, width, fprLimit: input.fprLimit }), NaN),
    imageF1Max: imageF1.f1,
    imageF1Threshold: imageF1.threshold,
    pixelF1Max: pixelF1.f1,
    pixelF1Threshold: pixelF1.threshold,
    undefinedMetrics,
  };
}
