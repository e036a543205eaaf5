/**
 * @cfa/padim — PaDiM (Defard et al. 2021) as glue over the stage packages: no maths here.
 *
 * - `padimMethod`: the method for @cfa/method-kit (`runMethodOnCategory`, `saveModel`, …).
 * - `PadimConfigSchema`, `PADIM_CONFIG_FIELDS`, `REFERENCE_DIMENSIONS`, `embeddingDimensions`:
 *   its config, with the PaDiM reference code's defaults.
 * - `fitPadim`, `predictPadim`: the parts, for callers that bring their own features;
 *   `assertGaussiansFit`: d and the Gaussians' memory against the grid, before any work.
 * - `lowerPadimMap`: a member's scoring as an ONNX graph piece.
 *
 * The pieces: descriptor (`nearestEmbedding`, `randomChannels`, `lowerNearestEmbedding`),
 * memory-bank (`fitPositionGaussians`), scoring (`createMahalanobisScorer`, `lowerMahalanobisMaps`,
 * `anomalyMaps`).
 */
export { PADIM_CONFIG_FIELDS, PadimConfigSchema, REFERENCE_DIMENSIONS, embeddingDimensions } from './config';
export type { PadimConfig, PadimConfigInput } from './config';
export { assertGaussiansFit, padimMethod } from './padim-method';
export { fitPadim } from './fit';
export type { FitPadimOptions, FittedPadim } from './fit';
export { predictPadim } from './predict';
export { PADIM_MEMBER_FIELDS } from './padim-member';
export { lowerPadimMap } from './padim-onnx';
