/**
 * @cfa/descriptor — CFA's patch descriptor (paper §3.1).
 *
 * - Frozen patch embedding: `patchEmbedding` (tfjs), `lowerPatchEmbeddingToOnnx`, and
 *   `createPatchEmbedder` (images → embeddings on either engine); the embedding pyramid (each map
 *   at its own size: `expandPyramid`, `expandPyramids`, `pyramidLevels`) that the cache stores.
 * - PaDiM's embedding: `nearestEmbedding` (the raw maps concatenated on the finest grid by
 *   nearest-neighbour replication, a random channel subset kept: `randomChannels`), and
 *   `lowerNearestEmbedding`, the same as an ONNX graph piece; `createPatchEmbedder({ pooling:
 *   'none' })` stores the raw maps as the pyramid.
 * - Trainable 1×1 CoordConv: `createCoordConvParams`, `coordinateChannels`,
 *   `descriptorForwardTf` (differentiable), `createDescriptorRunner` (forward on either engine,
 *   from embeddings or pyramids), `createDescriptorGradient` (the weight gradient Xᵀ·∂φ on either
 *   engine, from embeddings or pyramids), and conversions to/from PyTorch's Conv2d weight layout.
 * - As ONNX graph pieces: `lowerPyramidDescriptor` (φ of pyramids: weights fed or constant, the
 *   coordinate term, one chain per image, the feeds) and `lowerPyramidDescriptorGradient` (∂W, ∂b
 *   summed over its images); `lowerPyramidForward` (the per-level product, for any right factors);
 *   `lowerBatchDescriptor` (φ of a batch of full-resolution embeddings, weights as constants: the
 *   one-graph export).
 * - FYD's trainable pieces: the pose spatial transformer (`createSpatialTransformerParams`,
 *   `localise`, `localiseGradient`, `spatialTransform`, `lowerSpatialTransformer`, on the
 *   area-pooled map: `areaPool`, `areaPoolMatrix`, `lowerAreaPool`) and the fine-alignment head
 *   (`createAlignmentHeadParams`, `createAlignmentHeadRunner`: adaptor + predictor forward and
 *   gradients on either engine; `lowerAdaptor`); `expandPyramidAdjoint` carries a gradient back
 *   through the embedding's upsampling.
 * - `parityInputs`, `parityInputsDigest`: the regenerable inputs of the fixtures computed by the
 *   CFA reference code's own modules (tools/torch-reference/official_fixtures.py).
 */
export { patchEmbedding } from './patch-embedding';
export type { PatchEmbeddingParams } from './patch-embedding';
export { lowerPatchEmbeddingToOnnx, lowerUpsampledConcat } from './patch-embedding-onnx';
export { createPatchEmbedder } from './patch-embedder';
export { lowerNearestEmbedding, nearestEmbedding, randomChannels } from './nearest-embedding';
export type { NearestEmbeddingParams } from './nearest-embedding';
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
  expandPyramidAdjoint,
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
  transformerTheta,
  spatialTransformerInputs,
  spatialTransformerTensors,
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
