/**
 * @cfa/backbone — frozen ImageNet CNNs with torchvision's parameter names, cut at the stages CFA
 * taps (strides 4/8/16), one definition each, run on TensorFlow.js or lowered to ONNX.
 *
 * - `loadBackbone`: seeded random init (the embedded default) or a `.safetensors` / `.pth` file.
 * - `createBackboneRunner`: the forward pass on either engine (typed arrays in and out);
 *   `createTfBackboneRunner` (tfjs tensors, for code that continues on tensors) and
 *   `lowerBackboneToOnnx` + `nhwcInputToNchw` (for graphs that continue in ONNX);
 *   `assertImageBatch`: their input check.
 * - `inferFeatureShapes`, `featureShapesFor`: feature dims derived from the model.
 * - `readSafetensors`, `writeSafetensors`, `encodeSafetensors`, `decodeSafetensors`,
 *   `decodeTorchCheckpoint` (zip and legacy `torch.save` layouts, nothing executed), `readWeightFile`:
 *   weight files; damage is a `WeightFileError` naming the file.
 * - `checkWeights`, `WeightMismatchError`: missing / unexpected / wrong-shaped keys by name;
 *   `nonFiniteTensors`: NaN / ±Inf values by tensor, refused at load.
 * - `stateDictDigest`: a fingerprint of the weights (saved models check it on load).
 */
export { PLAIN_EMBEDDING, paddingPair, TAPS } from './architectures/net-builder';
export type { BackboneDefinition, ConvSpec, NetBuilder, Padding, PoolSpec, Taps } from './architectures/net-builder';
export { inferFeatureShapes, summarizeDefinition } from './architectures/param-spec';
export type { ConvInfo, DefinitionSummary, FeatureShape, ParamInfo } from './architectures/param-spec';
export { resnet18Definition, wideResnet50Definition } from './architectures/resnet';
export { vgg19BnDefinition, vgg19Definition, vggDefinition } from './architectures/vgg';
export {
  efficientNetB4Definition,
  efficientNetB5Definition,
  makeDivisible,
  staticSamePadding,
} from './architectures/efficientnet';
export { availableBackbones, backboneDefinition } from './registry';
export { CALIBRATION, buildBackboneModel, featureShapesFor, loadBackbone, readWeightFile } from './backbone-model';
export { calibrateBatchNorm } from './weights/calibrate-batch-norm';
export type { BackboneModel, LoadBackboneOptions, WeightsSource } from './backbone-model';
export { createBackboneRunner } from './execution/backbone-runner';
export { assertImageBatch } from './execution/image-batch';
export type { BackboneRunner, BackboneRunnerOptions } from './execution/backbone-runner';
export { createTfBackboneRunner } from './execution/tf-runner';
export type { TfBackboneRunner } from './execution/tf-runner';
export { lowerBackboneToOnnx } from './execution/onnx-lowering';
export { nhwcInputToNchw } from './execution/ort-runner';
export type { FeatureMap } from './execution/ort-runner';
export { fuseConvBatchNorm } from './weights/fuse-batch-norm';
export type { ConvWeights } from './weights/fuse-batch-norm';
export { randomInitWeights } from './weights/random-init';
export type { RandomInitOptions } from './weights/random-init';
export { WeightFileError } from './weights/errors';
export {
  decodeSafetensors,
  encodeSafetensors,
  float16ToFloat32,
  float32ToFloat16,
  readSafetensors,
  writeSafetensors,
} from './weights/safetensors';
export type { SafetensorsContents, SafetensorsDtype } from './weights/safetensors';
export { decodeTorchCheckpoint } from './weights/torch-checkpoint';
export { formatShape, requireWeight, weightTensor } from './weights/state-dict';
export { stateDictDigest } from './weights/state-dict-digest';
export type { StateDict, WeightTensor } from './weights/state-dict';
export {
  WeightMismatchError,
  checkWeights,
  describeNonFinite,
  describeWeightReport,
  isCompleteReport,
  nonFiniteTensors,
} from './weights/validate-weights';
export type { NonFiniteTensor, WeightReport } from './weights/validate-weights';
