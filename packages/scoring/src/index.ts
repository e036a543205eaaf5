/**
 * @cfa/scoring — what CFA computes from nearest-centre distances.
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
 * - `thresholdAtFalsePositiveRate`: a deployable threshold from normal scores alone (a quantile).
 * - `gaussianBlur`, `gaussianKernel`: scipy-compatible smoothing.
 * - Reconstruction scoring (CRAD, Lee et al. 2024): `blendedReconstructionTf` (the MSE / cosine
 *   blend), `featureMseLossTf`, `reconstructionDistanceTf`, `lowerReconstructionDistance`;
 *   `reconstructionMaps` / `lowerReconstructionMaps` (aligned-corner upsampling + box smoothing),
 *   `pooledMaxScores` / `lowerPooledMaxScores` (the largest window mean); `separableMaps`,
 *   `lowerSeparableMaps`: any separable map operator.
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
export {
  DistanceMetricSchema,
  anomalyMaps,
  imageScores,
  patchAnomalyScores,
  separableMaps,
  sparseOperator,
  upsampleBilinear,
} from './anomaly-map';
export type { MapOperator } from './anomaly-map';
export { lowerAnomalyMaps, lowerImageScores, lowerPatchAnomalyScores, lowerSeparableMaps } from './anomaly-map-onnx';
export { thresholdAtFalsePositiveRate } from './threshold';
export type { AnomalyMapParams, DistanceMetric, PatchScoreParams } from './anomaly-map';
export { gaussianBlur, gaussianKernel, reflectIndex } from './gaussian-blur';
export type { GaussianBlurParams } from './gaussian-blur';
export {
  ReconstructionBlendSchema,
  blendedReconstructionTf,
  featureMseLossTf,
  lowerReconstructionDistance,
  lowerReconstructionLossTrain,
  reconstructionDistanceTf,
} from './reconstruction-score';
export type { BlendTfParams, ReconstructionBlend } from './reconstruction-score';
export {
  lowerPooledMaxScores,
  lowerReconstructionMaps,
  pooledMaxScores,
  poolWindow,
  reconstructionMapMatrix,
  reconstructionMaps,
} from './reconstruction-map';
export type { ReconstructionMapParams } from './reconstruction-map';
