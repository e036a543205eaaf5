/**
 * @cfa/scoring/testing — the oracles of the scoring specs (tests, test helpers and tools only; the
 * lint rule keeps production code off it).
 *
 * - `cfaLossTf`: the loss as TensorFlow.js ops, for autograd against `cfaLossAndGradient`.
 * - `gaussianBlur`, `upsampleBilinear`: the map pipeline written out step by step, against the
 *   composed operator of `anomalyMaps`.
 */
export { cfaLossTf } from './loss-tf';
export type { LossTfParams } from './loss-tf';
export { gaussianBlur } from './gaussian-blur';
export type { GaussianBlurParams } from './gaussian-blur';
export { upsampleBilinear } from './upsample-bilinear';
