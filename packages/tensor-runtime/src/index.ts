/**
 * @cfa/tensor-runtime — what every tensor-using package shares:
 * - `selectTfBackend`, `describeTfBackend`: the TensorFlow.js chain tfjs-node-gpu → tfjs-node → wasm → cpu.
 * - `selectEngine`, `describeEngine`, `loadOrt`: ONNX Runtime (fast CPU path) or TensorFlow.js.
 * - `OnnxGraphBuilder`, `attr`, `createOrtRunner`: lower models to ONNX in memory and run them.
 * - `AdamW`, `OptimizerConfigSchema`: torch's AdamW (amsgrad, decoupled weight decay, per-parameter
 *   learning rates) on typed arrays, the optimiser of both engines; `stepLrFactor` (StepLR as
 *   UniAD-style loops call it) and `clipGradientNorm` (`clip_grad_norm_`); `ensureTfGradients`:
 *   tfjs autograd under Node's own module loader.
 * - `createRng`, `hashString`: seeded randomness.
 * - `assertShape`, `assert`, `product`: boundary checks.
 * - `gridSample`, `gridSampleGradient`, `gridSampleTf`, `lowerGridSample`: PyTorch's bilinear
 *   `F.grid_sample` on typed arrays (with both gradients), TensorFlow.js and ONNX (opset 16);
 *   `affineGrid`, `affineGridGradient`, `affineGridTf`, `lowerAffineGrid`: `F.affine_grid`, its
 *   sampling grid (spatial transformers, continuous grids); `composeAffine`, `invertAffine` (+ ONNX
 *   lowerings): chains of those maps and their inverses.
 *
 * `maxRelativeError`, the measure of the parity specs, is in `@cfa/tensor-runtime/testing`.
 */
export {
  TF_BACKEND_CHAIN,
  TF_BACKEND_ENV,
  currentTfBackend,
  describeTfBackend,
  parseTfBackendName,
  selectTfBackend,
  firstLine,
} from './tf-backend';
export type { TfBackendAttempt, TfBackendName, TfBackendSelection } from './tf-backend';
export {
  ENGINE_ENV,
  ENGINE_NAMES,
  THREADS_ENV,
  defaultThreads,
  describeEngine,
  loadOrt,
  parseEngineRequest,
  selectEngine,
} from './engine';
export type { EngineName, EngineRequest, EngineSelection, OrtModule } from './engine';
export { ONNX_OPSET, OnnxGraphBuilder, attr } from './onnx-graph';
export type { OnnxDim, OnnxElementType } from './onnx-graph';
export { ORT_PROFILE_ENV, ORT_PROVIDERS_ENV, createOrtRunner, requireOrt } from './ort-session';
export type { OrtFeed, OrtOutput, OrtRunner } from './ort-session';
export { AdamW, OptimizerConfigSchema } from './adamw';
export { clipGradientNorm, stepLrFactor } from './training-schedule';
export { ensureTfGradients } from './tf-gradients';
export type { OptimizerConfig } from './adamw';
export { createRng, hashString } from './rng';
export type { Rng } from './rng';
export { assert, assertShape, product } from './shape';
export { gridSample, gridSampleGradient, gridSampleTf, lowerGridSample } from './grid-sample';
export type { GridSampleOptions, GridSampleParams } from './grid-sample';
export { affineBaseGrid, affineGrid, affineGridGradient, affineGridTf, lowerAffineGrid } from './affine-grid';
export type { AffineGridParams } from './affine-grid';
export { composeAffine, invertAffine, lowerComposeAffine, lowerInvertAffine } from './affine-maps';
export type { ShapeSpec } from './shape';
