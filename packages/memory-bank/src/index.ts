/**
 * @cfa/memory-bank — what a method keeps of the train features: CFA's memory bank C (paper §3.2) and
 * the nearest-centre search over it, PatchCore's coreset, PaDiM's per-position Gaussians.
 *
 * - `createMemoryBank`: centres with their cached ‖c‖² and Cᵀ; `centreCount`: ⌊HW/γc⌋.
 * - `createNearestSearch`: blocked ‖f‖² + ‖c‖² − 2 f·c + top-k on ONNX Runtime or TensorFlow.js;
 *   `lowerNearest`, `lowerSquaredDistances`, `lowerRowSquaredNorms`: the same as ONNX graph pieces,
 *   with the bank entering a graph by `memoryBankInputs` + `memoryBankFeeds` or `memoryBankConstants`.
 * - `exactSquaredDistances`, `lowerExactSquaredDistances`: the distances to the neighbours found,
 *   recomputed as Σ (q − c)² (the expanded form loses digits when d² is small against the norms).
 * - `lowerDescriptorNearest`: the k nearest centres of each image of a pyramid descriptor graph
 *   (@cfa/descriptor's `lowerPyramidDescriptor`), ranked through the pyramid (`lowerPyramidNearest`
 *   with `lowerPyramidSearchFactors`, W_l·Cᵀ per level) or by φ·Cᵀ, whichever `pyramidSearchPays`.
 * - `referenceMemoryBank` + `RunningMean`: the reference code's init (mean, then k-means if γc > 1).
 * - `paperMemoryBank`, `greedyMatch`: the paper's Algorithm 1 (k-means on the first image, then EMA).
 * - `kmeans`, `kmeansPlusPlus`: seeded k-means.
 * - `fitPositionGaussians` (+ `PositionGaussianAccumulator`, `choleskyInverse`): PaDiM's Gaussian
 *   per patch position — running mean and covariance over the train images, + εI, Cholesky
 *   inverse (§3.2); `gaussianBytes` / `gaussianFitBytes`: what they cost in memory.
 * - PatchCore's bank (Roth et al. 2022, §3.2): `approximateGreedyCoreset` (random projection to 128
 *   dimensions on the engine, then the greedy farthest-point loop of its code's
 *   ApproximateGreedyCoresetSampler), `coresetDraws` (its seeded projection and starting points),
 *   `coresetSize`.
 * - CRAD's continuous memory (Lee et al. 2024): two learned grids read bilinearly at predicted
 *   coordinates, as `grid_sample(align_corners=False)` — `initContinuousMemory`,
 *   `continuousMemoryTf` (differentiable: tent weights × grid, no gather), `sampleGridTf`,
 *   `gridWeightsTf`, and in a graph `lowerContinuousMemory`, `lowerSampleGrid`, `gridTransposed`.
 */
export { centreCount, createMemoryBank } from './memory-bank';
export type { MemoryBank } from './memory-bank';
export { DEFAULT_BLOCK_ROWS, createNearestSearch } from './nearest-search';
export { exactSquaredDistances } from './exact-distances';
export type { ExactSquaredDistanceParams } from './exact-distances';
export {
  lowerExactSquaredDistances,
  lowerNearest,
  lowerRowSquaredNorms,
  lowerSquaredDistances,
  memoryBankConstants,
  memoryBankFeeds,
  memoryBankInputs,
} from './nearest-onnx';
export type { MemoryBankGraph } from './nearest-onnx';
export {
  lowerDescriptorNearest,
  lowerPyramidNearest,
  lowerPyramidSearchFactors,
  pyramidSearchPays,
} from './pyramid-search';
export type { DescriptorNearestOptions, NearestRanking, PyramidSearchFactors } from './pyramid-search';
export type { NearestResult, NearestSearch, NearestSearchOptions } from './nearest-search';
export { kmeans, kmeansPlusPlus } from './kmeans';
export {
  PositionGaussianAccumulator,
  choleskyInverse,
  fitPositionGaussians,
  gaussianBytes,
  gaussianFitBytes,
  withinPositionShareOf,
} from './position-gaussian';
export type { FitPositionGaussiansParams, PositionGaussians } from './position-gaussian';
export type { KMeansParams, KMeansResult } from './kmeans';
export { RunningMean, referenceMemoryBank } from './reference-init';
export type { ReferenceBankParams } from './reference-init';
export { greedyMatch, paperMemoryBank } from './paper-init';
export {
  CORESET_PROJECTION_DIM,
  CORESET_START_POINTS,
  approximateGreedyCoreset,
  coresetDraws,
  coresetSize,
} from './greedy-coreset';
export type { ApproximateGreedyCoresetParams, CoresetDraws, CoresetProgress, CoresetResult } from './greedy-coreset';
export type { PaperBankParams } from './paper-init';
export {
  CONTINUOUS_MEMORY_NAMES,
  continuousMemoryShapes,
  continuousMemoryTf,
  gridTransposed,
  gridWeightsTf,
  initContinuousMemory,
  lowerContinuousMemory,
  lowerContinuousMemoryTrain,
  lowerSampleGrid,
  sampleGridTf,
} from './continuous-memory';
export type {
  ContinuousMemoryShape,
  ContinuousMemoryTensor,
  ContinuousMemoryTrainGraph,
  ContinuousMemoryTfParams,
  LowerContinuousMemoryOptions,
} from './continuous-memory';
