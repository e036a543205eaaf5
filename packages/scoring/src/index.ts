/**
 * @cfa/scoring — what CFA computes from nearest-centre distances.
 *
 * - Loss (paper Eq. 3–5): `cfaLossAndGradient` (typed arrays, closed-form gradient), `hingeWeights`,
 *   `lowerCfaLossGradient` + `lossFromSums` (the same as an ONNX graph piece),
 *   `cfaLossTf` (TensorFlow.js autograd), `LossConfigSchema`, `neighboursNeeded`.
 * - Anomaly map (paper §3.4): `patchAnomalyScores` (softmin certainty × nearest distance),
 *   `anomalyMaps` (bilinear upsample + Gaussian blur), `imageScores` (max), `upsampleBilinear`,
 *   `mapOperatorMatrix` (that upsampling + blur along one axis as a matrix).
 * - The same as ONNX graph pieces, for a model exported as one graph: `lowerPatchAnomalyScores`,
 *   `lowerAnomalyMaps`, `lowerImageScores`.
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
export { lowerCfaLossGradient } from './loss-onnx';
export type { LossGraphInputs, LossGraphOutputs } from './loss-onnx';
export {
  DistanceMetricSchema,
  anomalyMaps,
  imageScores,
  mapOperatorMatrix,
  patchAnomalyScores,
  upsampleBilinear,
} from './anomaly-map';
export { lowerAnomalyMaps, lowerImageScores, lowerPatchAnomalyScores } from './anomaly-map-onnx';
export { thresholdAtFalsePositiveRate } from './threshold';
export type { ThresholdParams } from './threshold';
export type { AnomalyMapParams, DistanceMetric, PatchScoreParams } from './anomaly-map';
export { gaussianBlur, gaussianKernel, reflectIndex } from './gaussian-blur';
export type { GaussianBlurParams } from './gaussian-blur';
