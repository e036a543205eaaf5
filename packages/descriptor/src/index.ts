/**
 * @cfa/descriptor — CFA's patch descriptor (paper §3.1).
 *
 * - Frozen patch embedding: `patchEmbedding` (tfjs), `lowerPatchEmbeddingToOnnx`, and
 *   `createPatchEmbedder` (images → embeddings on either engine); the embedding pyramid (each map
 *   at its own size: `expandPyramid`, `expandPyramids`, `pyramidLevels`) that the cache stores.
 * - Trainable 1×1 CoordConv: `createCoordConvParams`, `coordinateChannels`,
 *   `descriptorForwardTf` (differentiable), `createDescriptorRunner` (forward on either engine,
 *   from embeddings or pyramids), `createDescriptorGradient` (the weight gradient Xᵀ·∂φ on either
 *   engine, from embeddings or pyramids), and conversions to/from PyTorch's Conv2d weight layout.
 * - As ONNX graph pieces: `lowerPyramidDescriptor` (φ of pyramids: weights fed or constant, the
 *   coordinate term, one chain per image, the feeds) and `lowerPyramidDescriptorGradient` (∂W, ∂b
 *   summed over its images); `lowerPyramidForward` (the per-level product, for any right factors);
 *   `lowerBatchDescriptor` (φ of a batch of full-resolution embeddings, weights as constants: the
 *   one-graph export).
 * - CRAD's pieces (Lee et al. 2024): the MFCN neck (`mfcnNeckTf`, `lowerMfcnNeck`: maps resized to
 *   the first's stride with aligned corners, concatenated; `createMfcnEmbedder`, images → neck
 *   features on either engine), the coordinate predictors (`initCoordinatePredictors`,
 *   `globalCoordinatesTf`, `localCoordinatesTf`, `lowerCoordinatePredictors`) and the bottleneck
 *   decoder (`initBottleneckDecoder`, `bottleneckDecoderTf` — differentiable on every tfjs backend —,
 *   `updateRunningStatistics`, `lowerBottleneckDecoder`); their parameters are state dicts in the
 *   reference module's names (`TensorLookup`, `namedTensor`, `isRunningStatistic`).
 * - `parityInputs`, `parityInputsDigest`: the regenerable inputs of the fixtures computed by the
 *   CFA reference code's own modules (tools/torch-reference/official_fixtures.py).
 */
export { patchEmbedding } from './patch-embedding';
export type { PatchEmbeddingParams } from './patch-embedding';
export { lowerPatchEmbeddingToOnnx } from './patch-embedding-onnx';
export { createPatchEmbedder } from './patch-embedder';
export type { PatchEmbedder, PatchEmbedderOptions } from './patch-embedder';
export {
  assertCoordConvShape,
  cloneCoordConvParams,
  coordConvOutChannels,
  coordConvWeightFromTorch,
  coordConvWeightToTorch,
  coordinateChannels,
  createCoordConvParams,
} from './coord-conv';
export type { CoordConvInit, CoordConvOptions, CoordConvParams } from './coord-conv';
export { lowerPyramidForward } from './coord-conv-onnx';
export type { PyramidWeights } from './coord-conv-onnx';
export {
  bilinearMatrix,
  EmbeddingLevelSchema,
  expandPyramid,
  expandPyramids,
  pyramidChannels,
  pyramidLength,
  pyramidLevels,
} from './embedding-pyramid';
export type { EmbeddingLevel } from './embedding-pyramid';
export { lowerPyramidDescriptor, lowerPyramidDescriptorGradient } from './pyramid-descriptor';
export { lowerBatchDescriptor } from './batch-descriptor';
export type { BatchDescriptorOptions } from './batch-descriptor';
export type {
  PyramidDescriptorGraph,
  PyramidDescriptorOptions,
  PyramidGradientSum,
  PyramidImageGraph,
} from './pyramid-descriptor';
export { createDescriptorRunner, descriptorForwardTf } from './descriptor-forward';
export { parityInputs, parityInputsDigest } from './parity-inputs';
export type { ParityInputsSpec } from './parity-inputs';
export { createDescriptorGradient } from './descriptor-gradient';
export type { DescriptorGradient, DescriptorGradientOptions } from './descriptor-gradient';
export type { DescriptorForwardTfParams, DescriptorRunner, DescriptorRunnerOptions } from './descriptor-forward';
export { lowerMfcnNeck, mfcnNeckTf, mfcnScaleFactors } from './mfcn-neck';
export { createMfcnEmbedder } from './mfcn-embedder';
export type { MfcnEmbedder } from './mfcn-embedder';
export { lowerResizeBilinear } from './patch-embedding-onnx';
export { isRunningStatistic, namedTensor, namedWeight } from './named-params';
export type { TensorLookup } from './named-params';
export {
  COORDINATE_PREDICTORS,
  globalCoordinatesTf,
  initCoordinatePredictors,
  localCoordinatesTf,
  lowerCoordinatePredictors,
  lowerCoordinatePredictorsTrain,
} from './coordinate-predictor';
export type { CoordinatePredictorsTrainGraph } from './coordinate-predictor';
export {
  BATCH_NORM,
  bottleneckDecoderTf,
  decoderBatchNorms,
  decoderLayerCount,
  initBottleneckDecoder,
  lowerBottleneckDecoder,
  lowerBottleneckDecoderTrain,
  updateRunningStatistics,
} from './bottleneck-decoder';
export type {
  BatchStatistics,
  BottleneckDecoderShape,
  DecoderTfOptions,
  DecoderTfResult,
  DecoderTrainGraph,
} from './bottleneck-decoder';
