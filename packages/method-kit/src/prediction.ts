/**
 * What every method's inference gives for a list of images: one anomaly map per image on the
 * input's grid, the patch scores it was upsampled from, and the image scores. Metrics, pictures,
 * thresholds, view ensembles and `predict` work on this alone, whatever method made it.
 */
import { anomalyMaps, imageScores } from '@cfa/scoring';

export interface Prediction {
  /** Anomaly maps [N, size, size]. */
  maps: Float32Array;
  /** Patch-level scores before upsampling, [N, H, W]. */
  patchScores: Float32Array;
  imageScores: Float32Array;
  size: number;
  ids: string[];
  seconds: number;
}

/**
 * A prediction from patch scores [N, H, W], the way every method of the toolkit finishes: the
 * maps upsampled to the input's side and smoothed (@cfa/scoring `anomalyMaps`), each image's score
 * the maximum of its map; `seconds` since `start` (a `performance.now()`).
 */
export function predictionFromPatchScores(params: {
  patchScores: Float32Array;
  ids: string[];
  height: number;
  width: number;
  inputSize: number;
  sigma: number;
  start: number;
}): Prediction {
  const { patchScores, ids, height, width, inputSize, sigma, start } = params;
  const count = ids.length;
  const maps = anomalyMaps({ scores: patchScores, count, height, width, outputSize: inputSize, sigma });
  return {
    maps,
    patchScores,
    imageScores: imageScores({ maps, count, size: inputSize }),
    size: inputSize,
    ids,
    seconds: (performance.now() - start) / 1000,
  };
}
