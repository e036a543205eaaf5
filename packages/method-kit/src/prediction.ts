/**
 * What every method's inference gives for a list of images: one anomaly map per image on the
 * input's grid, the patch scores it was upsampled from, and the image scores. Metrics, pictures,
 * thresholds, view ensembles and `predict` work on this alone, whatever method made it.
 */
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
