/**
 * @cfa/scoring — what CFA computes from nearest-centre distances.
 *
 * - Loss (paper §3.1, Eq. 1–3): `cfaLossAndGradient` (typed arrays, closed-form gradient), `hingeWeights`,
 *   `lowerCfaLossGradient` + `lossFromSums` (the same as an ONNX graph piece, its step inputs from
 *   `lossGraphInputs` + `lossGraphFeeds`, its sums over images `lowerLossSumsTotal`,
 *   `lossSumOutputs`, `lossSumsFromOutputs`),
 *   `LossConfigSchema`, `neighboursNeeded`.
 * - Anomaly map (paper §3.3, Eq. 4–5): `patchAnomalyScores` (softmin certainty × nearest distance),
 *   `anomalyMaps` (bilinear upsample — @cfa/descriptor's `bilinearMatrix` — + Gaussian blur, composed
 *   into one matrix per axis), `imageScores` (max).
 * - The same as ONNX graph pieces, for a model exported as one graph: `lowerPatchAnomalyScores`,
 *   `lowerAnomalyMaps`, `lowerImageScores`.
 * - `thresholdAtFalsePositiveRate`: a deployable threshold from normal scores alone (a quantile).
 * - `gaussianKernel`: scipy's Gaussian kernel of the smoothing.
 * - Reconstruction scoring (CRAD, Lee et al. 2024): `blendedReconstructionTf` (the MSE / cosine
 *   blend), `featureMseLossTf`, `reconstructionDistanceTf`, `lowerReconstructionDistance`,
 *   `lowerReconstructionLossTrain` (FeatureMSELoss and its gradient, for training on ONNX Runtime);
 *   `reconstructionMaps` / `lowerReconstructionMaps` (aligned-corner upsampling + box smoothing),
 *   `pooledMaxScores` / `lowerPooledMaxScores` (the largest window mean); `separableMaps`,
 *   `lowerSeparableMaps`: any separable map operator.
 *
 * The specs' oracles (`cfaLossTf`, `gaussianBlur`, `upsampleBilinear`) are `@cfa/scoring/testing`.
 */
export {
  DEFAULT_LOSS_CONFIG,
  LossConfigSchema,
  LossTermsSchema,
  cfaLossAndGradient,
  hingeWeights,
  lossFromSums,
  termScales,
  negativeColumns,
  neighbourRoles,
  neighboursNeeded,
} from './loss';
export type { HingeWeights, LossSums, LossAndGradient, LossConfig, LossParams, LossTerms, LossValues } from './loss';
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
} from './anomaly-map';
export type { MapOperator } from './anomaly-map';
export { lowerAnomalyMaps, lowerImageScores, lowerPatchAnomalyScores, lowerSeparableMaps } from './anomaly-map-onnx';
export { thresholdAtFalsePositiveRate } from './threshold';
export type { AnomalyMapParams, DistanceMetric, PatchScoreParams } from './anomaly-map';
export { gaussianKernel } from './gaussian-blur';
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
