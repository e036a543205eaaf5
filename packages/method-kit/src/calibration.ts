/**
 * Thresholds a deployed model can use, set without test labels (common-config.ts, `calibration`): hold
 * out a seeded fraction of train/good from the fit, score it with the fitted model, and take the
 * image and pixel thresholds at the configured false-positive rates of those normal scores
 * (`thresholdAtFalsePositiveRate` of @cfa/scoring). Glue only.
 *
 * @example
 * ```ts
 * const { fit, holdout } = splitHoldout(index.train, config.calibration.holdout, config.seed);
 * // … fit on `fit`, predict `holdout` …
 * const thresholds = calibrateThresholds(heldOutPrediction, config.calibration); // { image, pixel, … }
 * ```
 */
import { z } from 'zod';
import { createRng } from '@cfa/tensor-runtime';
import { thresholdAtFalsePositiveRate } from '@cfa/scoring';
import type { CalibrationConfig } from './common-config';
import type { Prediction } from './prediction';

/** The deployed decision rule: a score or map value above the threshold is anomalous. */
export const ThresholdsSchema = z.strictObject({
  /** Image-level: an image whose score (its map's maximum) exceeds this is anomalous. */
  image: z.number(),
  /** Pixel-level: map values above this make the segmentation mask. */
  pixel: z.number(),
  imageFpr: z.number(),
  pixelFpr: z.number(),
  /** How many held-out train/good images set them. */
  holdoutImages: z.number().int().positive(),
  /** How they were set. */
  method: z.literal('holdout-quantile'),
});
export type Thresholds = z.infer<typeof ThresholdsSchema>;

/**
 * The held-out part of a train split: round(n · fraction) items (at least 1, and 1 fewer than n)
 * chosen by the seed; both parts keep the original order. Nothing is held out for fraction 0 or
 * fewer than 2 items.
 */
export function splitHoldout<T>(items: T[], fraction: number, seed: number): { fit: T[]; holdout: T[] } {
  const n = items.length;
  if (!(fraction > 0) || n < 2) return { fit: items, holdout: [] };
  const count = Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
  const held = new Set(createRng(seed).fork('calibration-holdout').permutation(n).slice(0, count));
  return { fit: items.filter((_, i) => !held.has(i)), holdout: items.filter((_, i) => held.has(i)) };
}

/** Thresholds from the held-out images' prediction (maps and image scores of normal images only). */
export function calibrateThresholds(
  heldOut: Pick<Prediction, 'maps' | 'imageScores'>,
  calibration: CalibrationConfig,
): Thresholds {
  return {
    image: thresholdAtFalsePositiveRate({ scores: heldOut.imageScores, fpr: calibration.imageFpr }),
    pixel: thresholdAtFalsePositiveRate({ scores: heldOut.maps, fpr: calibration.pixelFpr }),
    imageFpr: calibration.imageFpr,
    pixelFpr: calibration.pixelFpr,
    holdoutImages: heldOut.imageScores.length,
    method: 'holdout-quantile',
  };
}
