/**
 * @cfa/descriptor — CFA's patch descriptor (paper §3.1).
 *
 * - Frozen patch embedding: `patchEmbedding` (tfjs), `lowerPatchEmbeddingToOnnx`, and
 *   `createPatchEmbedder` (images → embeddings on either engine); the embedding pyramid (each map
 *   at its own size: `expandPyramid`, `pyramidLevels`) that the cache stores and the fused
 *   training step multiplies level by level (`lowerPyramidForward`, `lowerPyramidWeightGradient`).
 * - Trainable 1×1 CoordConv: `createCoordConvParams`, `coordinateChannels`,
 *   `descriptorForwardTf` (differentiable), `createDescriptorRunner` (forward on either engine),
 *   `createDescriptorGradient` (the weight gradient Xᵀ·∂φ on either engine),
 *   `lowerCoordConvForward` / `lowerCoordConvWeightGradient` (the same as ONNX graph pieces),
 *   and conversions to/from PyTorch's Conv2d weight layout.
 * - `parityInputs`, `parityInputsDigest`: the regenerable inputs of the fixtures computed by the
 *   CFA reference code's own modules (tools/torch-reference/official_fixtures.py).
 */
export { patchEmbedding } from './patch-embedding';
export type { PatchEmbeddingParams } from './patch-embedding';
export { lowerPatchEmbeddingToOnnx } from './patch-embedding-onnx';
export { createPatchEmbedder } from './patch-embedder';
export type { PatchEmbedder, PatchEmbedderOptions } from './patch-embedder';
export {
  cloneCoordConvParams,
  coordConvOutChannels,
  coordConvWeightFromTorch,
  coordConvWeightToTorch,
  coordinateChannels,
  createCoordConvParams,
} from './coord-conv';
export type { CoordConvInit, CoordConvOptions, CoordConvParams } from './coord-conv';
export {
  coordConvWeightFeeds,
  coordConvWeightInputs,
  coordinatesAndOneInitializer,
  coordinatesInitializer,
  finishPyramidGradient,
  lowerCoordConvForward,
  lowerCoordConvWeightGradient,
  lowerCoordinateTerm,
  lowerPyramidForward,
  lowerPyramidWeightGradient,
  pyramidFeeds,
  pyramidInputs,
  pyramidWeightFeeds,
  pyramidWeightInputs,
} from './coord-conv-onnx';
export type { CoordConvShape, CoordConvWeights, PyramidGradient, PyramidWeights } from './coord-conv-onnx';
export {
  bilinearMatrix,
  EmbeddingLevelSchema,
  expandPyramid,
  pyramidChannels,
  pyramidLength,
  pyramidLevels,
} from './embedding-pyramid';
export type { EmbeddingLevel } from './embedding-pyramid';
export { createDescriptorRunner, descriptorForwardTf } from './descriptor-forward';
export { parityInputs, parityInputsDigest } from './parity-inputs';
export type { ParityInputsSpec } from './parity-inputs';
export { createDescriptorGradient } from './descriptor-gradient';
export type { DescriptorGradient, DescriptorGradientOptions } from './descriptor-gradient';
export type { DescriptorForwardTfParams, DescriptorRunner, DescriptorRunnerOptions } from './descriptor-forward';
