/**
 * @cfa/scoring — what the methods compute from nearest-centre distances.
 *
 * - Loss (paper §3.1, Eq. 1–3): `cfaLossAndGradient` (typed arrays, closed-form gradient), `hingeWeights`,
 *   `lowerCfaLossGradient` + `lossFromSums` (the same as an ONNX graph piece, its step inputs from
 *   `lossGraphInputs` + `lossGraphFeeds`, its sums over images `lowerLossSumsTotal`,
 *   `lossSumOutputs`, `lossSumsFromOutputs`),
 *   `cfaLossTf` (TensorFlow.js autograd), `LossConfigSchema`, `neighboursNeeded`.
 * - Anomaly map (paper §3.3, Eq. 4–5): `patchAnomalyScores` (softmin certainty × nearest distance),
 *   `anomalyMaps` (bilinear upsample + Gaussian blur), `imageScores` (max), `upsampleBilinear`,
 *   `mapOperatorMatrix` (that upsampling + blur along one axis as a matrix).
 * - The same as ONNX graph pieces, for a model exported as one graph: `lowerPatchAnomalyScores`,
 *   `lowerAnomalyMaps`, `lowerImageScores`.
 * - PatchCore's patch score (Roth et al. 2022, §3.3, as its code computes it): `nearestNeighbourScores`
 *   (the mean of the k nearest squared distances), `lowerNearestNeighbourScores`; its map is
 *   `anomalyMaps` (bilinear + σ = 4, the code's RescaleSegmentor) and its image score `imageScores`
 *   of the patch scores (their maximum).
 * - `thresholdAtFalsePositiveRate`: a deployable threshold from normal scores alone (a quantile).
 * - `gaussianBlur`, `gaussianKernel`: scipy-compatible smoothing.
 */
export {
  DEFAULT_LOSS_CONFIG,
  LossConfigSchema,
  LossTermsSchema,
  cfaLossAndGradient,
  cfaLossTf,
  hingeWeights,
  lossFromSums,
  termScales,
  negativeColumns,
  neighbourRoles,
  neighboursNeeded,
} from './loss';
export type {
  HingeWeights,
  LossSums,
  LossAndGradient,
  LossConfig,
  LossParams,
  LossTerms,
  LossTfParams,
  LossValues,
} from './loss';
export {
  lossGraphFeeds,
  lossGraphInputs,
  lossSumOutputs,
  lossSumsFromOutputs,
  lowerCfaLossGradient,
  lowerLossSumsTotal,
} from './loss-onnx';
export type {
  LossGraphFeedsParams,
  LossGraphInputs,
  LossGraphOutputs,
  LossStepInputs,
  LossSumsGraph,
} from './loss-onnx';
export { DistanceMetricSchema, anomalyMaps, imageScores, patchAnomalyScores, upsampleBilinear } from './anomaly-map';
export {
  lowerAnomalyMaps,
  lowerImageScores,
  lowerNearestNeighbourScores,
  lowerPatchAnomalyScores,
} from './anomaly-map-onnx';
export { nearestNeighbourScores } from './nearest-neighbour-score';
export type { NearestNeighbourScoreParams } from './nearest-neighbour-score';
export { thresholdAtFalsePositiveRate } from './threshold';
export type { AnomalyMapParams, DistanceMetric, PatchScoreParams } from './anomaly-map';
export { gaussianBlur, gaussianKernel, reflectIndex } from './gaussian-blur';
export type { GaussianBlurParams } from './gaussian-blur';
