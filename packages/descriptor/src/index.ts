/**
 * @cfa/descriptor — patch descriptors: CFA's (paper §3.1), PatchCore's locally aware patch features,
 * PaDiM's embedding and FYD's trainable pieces.
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
 * PaDiM's embedding (nearest-embedding.ts): `nearestEmbedding` — the raw layer maps concatenated
 * on the finest grid by nearest-neighbour replication, a seeded channel subset kept
 * (`randomChannels`) — and `lowerNearestEmbedding`, the same as an ONNX graph piece;
 * `createPatchEmbedder({ pooling: 'none' })` stores the raw maps as the pyramid.
 *
 * PatchCore's locally aware patch features (Roth et al. 2022, §3.1): `localPatchFeatures` (the
 * TensorFlow.js op), `lowerLocalPatchFeatures` (ONNX), `createLocalPatchEmbedder` (images → features
 * on either engine): p×p neighbourhoods, adaptive average pooling per layer (`adaptivePoolBins`:
 * PyTorch's adaptive_avg_pool1d) and across layers, the deeper maps upsampled to the first's grid.
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
 * FYD's trainable pieces: the pose spatial transformer (spatial-transformer.ts:
 * `createSpatialTransformerParams`, `localise`, `localiseGradient`, `spatialTransform`,
 * `lowerSpatialTransformer` + `transformerTheta`, on the area-pooled map: area-pool.ts `areaPool`,
 * `areaPoolMatrix`, `lowerAreaPool`) and the fine-alignment head (alignment-head.ts:
 * `createAlignmentHeadParams`, `createAlignmentHeadRunner`: adaptor + predictor forward and
 * gradients on either engine; `lowerAdaptor`); `expandPyramidAdjoint` carries a gradient back
 * through the embedding's upsampling; `lowerUpsampledConcat` is the embedding's resize + concat as
 * ONNX nodes.
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
export { lowerPatchEmbeddingToOnnx, lowerUpsampledConcat } from './patch-embedding-onnx';
export { lowerNearestEmbedding, nearestEmbedding, randomChannels } from './nearest-embedding';
export type { NearestEmbeddingParams } from './nearest-embedding';
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
  expandPyramidAdjoint,
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
export { adaptivePoolBins, adaptivePoolTaps } from './adaptive-pool';
export type { AdaptivePoolBins } from './adaptive-pool';
export { localPatchFeatures } from './local-patch-features';
export type { LocalPatchFeaturesParams } from './local-patch-features';
export { lowerLocalPatchFeatures } from './local-patch-features-onnx';
export type { LocalPatchFeatureOptions } from './local-patch-features-onnx';
export { createLocalPatchEmbedder } from './local-patch-embedder';
export type { LocalPatchEmbedder, LocalPatchEmbedderOptions } from './local-patch-embedder';
export { areaPool, areaPoolMatrix, lowerAreaPool, lowerFlattenNhwc } from './area-pool';
export type { AreaPoolParams } from './area-pool';
export {
  cloneSpatialTransformerParams,
  createSpatialTransformerParams,
  localise,
  localiseGradient,
  lowerSpatialTransformer,
  poseMatrix,
  poseMatrixGradient,
  spatialTransform,
  spatialTransformerInputs,
  spatialTransformerTensors,
  transformerTheta,
} from './spatial-transformer';
export type { Pose, PoseBounds, SpatialTransformerParams } from './spatial-transformer';
export {
  alignmentHeadTensors,
  cloneAlignmentHeadParams,
  createAlignmentHeadParams,
  createAlignmentHeadRunner,
  lowerAdaptor,
} from './alignment-head';
export type {
  AlignmentHeadParams,
  AlignmentHeadRunner,
  AlignmentHeadRunnerOptions,
  HeadBackwardParams,
  HeadForward,
} from './alignment-head';
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
