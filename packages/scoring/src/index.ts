/**
 * @cfa/scoring — distances to what a method keeps → anomaly maps (CFA's softmin, PatchCore's nearest
 * distances, PaDiM's Mahalanobis).
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
 * - Mahalanobis distance maps (PaDiM §3.3, Eq. 2) to per-position Gaussians (@cfa/memory-bank's
 *   `fitPositionGaussians`): `createMahalanobisScorer` (ONNX Runtime or TensorFlow.js, batched
 *   MatMuls) and `lowerMahalanobisMaps` (the graph piece).
 * - PatchCore's patch score (Roth et al. 2022, §3.3, as its code computes it): `nearestNeighbourScores`
 *   (the mean of the k nearest squared distances), `lowerNearestNeighbourScores`; its map is
 *   `anomalyMaps` (bilinear + σ = 4, the code's RescaleSegmentor) and its image score `imageScores`
 *   of the patch scores (their maximum).
 * - `thresholdAtFalsePositiveRate`: a deployable threshold from normal scores alone (a quantile).
 * - `gaussianKernel`: scipy's Gaussian kernel of the smoothing.
 * - FYD's objectives (typed arrays, closed-form gradients): `pairwiseAlignmentLoss` (image-level
 *   coarse alignment), `denseSimilarityLoss` (the non-contrastive fine alignment).
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
export {
  lowerAnomalyMaps,
  lowerImageScores,
  lowerNearestNeighbourScores,
  lowerPatchAnomalyScores,
  lowerSeparableMaps,
} from './anomaly-map-onnx';
export { nearestNeighbourScores } from './nearest-neighbour-score';
export type { NearestNeighbourScoreParams } from './nearest-neighbour-score';
export { thresholdAtFalsePositiveRate } from './threshold';
export { createMahalanobisScorer, lowerMahalanobisMaps } from './mahalanobis';
export type { MahalanobisGaussians, MahalanobisScorer } from './mahalanobis';
export type { AnomalyMapParams, DistanceMetric, PatchScoreParams } from './anomaly-map';
export { gaussianKernel } from './gaussian-blur';
export { PAIR_DISTANCE_EPSILON, denseSimilarityLoss, pairwiseAlignmentLoss } from './alignment-losses';
export type { DenseSimilarityParams, PairwiseAlignmentParams } from './alignment-losses';
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
