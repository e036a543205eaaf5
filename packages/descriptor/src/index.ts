/**
 * @cfa/descriptor — CFA's patch descriptor (paper §3.1).
 *
 * The frozen patch embedding (3×3 avg-pool, bilinear upsample, concat), one file per form:
 * - `patchEmbedding` (patch-embedding-tf.ts): the TensorFlow.js op on backbone maps;
 * - `lowerPatchEmbeddingToOnnx` (patch-embedding-onnx.ts): the same as ONNX nodes after a lowered
 *   backbone;
 * - `createPatchEmbedder` (patch-embedding-runner.ts): images → embeddings or embedding pyramids on
 *   either engine (ONNX Runtime: backbone + embedding in one graph; TensorFlow.js: the backbone
 *   runner, then `patchEmbedding`);
 * - the embedding pyramid (embedding-pyramid.ts: each map at its own size, what the feature cache
 *   stores): `expandPyramid`, `expandPyramids`, `pyramidLevels`;
 * - `bilinearTaps`, `bilinearMatrix` (bilinear.ts): the half-pixel bilinear weights, in float32 or
 *   float64 — the one definition behind the pyramid's upsampling and the anomaly map's (@cfa/scoring).
 *
 * The trainable 1×1 CoordConv φ:
 * - coord-conv.ts: `createCoordConvParams`, `coordinateChannels`, conversions to and from PyTorch's
 *   Conv2d weight layout;
 * - `createDescriptorRunner` (descriptor-runner.ts): φ on either engine, from a batch of upsampled
 *   embeddings or from one image's pyramid; `createDescriptorGradient`
 *   (descriptor-gradient-runner.ts): the weight gradient Xᵀ·∂φ on either engine, from either form;
 * - as ONNX graph pieces for fused graphs: `lowerPyramidDescriptor` and
 *   `lowerPyramidDescriptorGradient` (pyramid-descriptor-onnx.ts: φ of pyramids, weights fed or
 *   constant; ∂W, ∂b summed over images — training, inference), `lowerBatchDescriptor`
 *   (embedding-descriptor-onnx.ts: φ of a batch of upsampled embeddings, weights as constants — the
 *   one-graph export), `lowerPyramidForward` (the per-level product, for any right factors).
 *
 * CRAD's pieces (Lee et al. 2024): the MFCN neck (`mfcnNeckTf`, `lowerMfcnNeck`: maps resized to
 * the first's stride with aligned corners, concatenated; `createMfcnEmbedder`, images → neck
 * features on either engine), the coordinate predictors (`initCoordinatePredictors`,
 * `globalCoordinatesTf`, `localCoordinatesTf`, `lowerCoordinatePredictors`, and for training on
 * ONNX Runtime `lowerCoordinatePredictorsTrain`) and the bottleneck decoder
 * (`initBottleneckDecoder`, `bottleneckDecoderTf` — differentiable on every tfjs backend —,
 * `updateRunningStatistics`, `lowerBottleneckDecoder`, `lowerBottleneckDecoderTrain`); their
 * parameters are state dicts in the reference module's names (`TensorLookup`, `namedTensor`,
 * `isRunningStatistic`).
 *
 * Spec oracles and the parity fixtures' inputs are `@cfa/descriptor/testing`.
 */
export { patchEmbedding } from './patch-embedding-tf';
export type { PatchEmbeddingParams } from './patch-embedding-tf';
export { lowerPatchEmbeddingToOnnx } from './patch-embedding-onnx';
export { createPatchEmbedder } from './patch-embedding-runner';
export type { PatchEmbedder, PatchEmbedderOptions } from './patch-embedding-runner';
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
export { bilinearMatrix, bilinearTaps } from './bilinear';
export type { BilinearPrecision, BilinearTaps } from './bilinear';
export {
  EmbeddingLevelSchema,
  expandPyramid,
  expandPyramids,
  pyramidChannels,
  pyramidLength,
  pyramidLevels,
} from './embedding-pyramid';
export type { EmbeddingLevel } from './embedding-pyramid';
export { lowerPyramidDescriptor, lowerPyramidDescriptorGradient } from './pyramid-descriptor-onnx';
export type {
  PyramidDescriptorGraph,
  PyramidDescriptorOptions,
  PyramidGradientSum,
  PyramidImageGraph,
} from './pyramid-descriptor-onnx';
export { lowerBatchDescriptor } from './embedding-descriptor-onnx';
export type { BatchDescriptorOptions } from './embedding-descriptor-onnx';
export { createDescriptorRunner } from './descriptor-runner';
export type { DescriptorRunner, DescriptorRunnerOptions } from './descriptor-runner';
export { createDescriptorGradient } from './descriptor-gradient-runner';
export type { DescriptorGradient, DescriptorGradientOptions } from './descriptor-gradient-runner';
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
