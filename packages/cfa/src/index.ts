/**
 * @cfa/cfa — the CFA method (Lee et al. 2022) as glue over the stage packages, like anomalib's
 * `lightning_model.py`: no maths here. What every method shares (a run on a category, CFA++-style
 * ensembles, thresholds, bundles, new images, the ONNX export, the feature cache) is
 * @cfa/method-kit's; this package supplies CFA's pieces to it as `cfaMethod`.
 *
 * - `cfaMethod`: the method for @cfa/method-kit (`runMethodOnCategory`, `saveModel`, …);
 *   `runCfaOnCategory`: the same run with CFA filled in.
 * - `CfaConfigSchema`: every setting of a run, with the paper's / reference code's defaults;
 *   `PRESETS` (docs/defaults.md).
 * - `fitCfa`, `predictCfa`, `createTrainer`: the parts, for callers that bring their own data;
 *   `assertMemoryBankFits`: γc against the patch grid and the K + J neighbours, before any work.
 * - `createOrtTrainStep`, `createPatchDistances`: the fused ONNX Runtime graphs of a training step
 *   and of inference's embeddings → K nearest distances (TensorFlow.js falls back to the parts).
 * - `lowerCfaMap`: a member's scoring as an ONNX graph piece; `cfaFeatureSpace`: φ before and after
 *   adaptation for paper Fig. 3.
 *
 * The graphs and the optimiser come from the stage packages: descriptor (`lowerPyramidDescriptor`),
 * memory-bank (`lowerDescriptorNearest`), scoring (`lowerCfaLossGradient`, `lossGraphFeeds`) and
 * tensor-runtime (`AdamW`).
 */
export {
  BackboneConfigSchema,
  CFA_CONFIG_FIELDS,
  CfaConfigSchema,
  DescriptorConfigSchema,
  MemoryBankConfigSchema,
  PRESETS,
  PresetSchema,
  ScoringConfigSchema,
  TrainingConfigSchema,
} from './config';
export type { CfaConfig, CfaConfigInput } from './config';
export { cfaMethod } from './cfa-method';
export { runCfaOnCategory } from './run-cfa';
export type { CfaRun, RunCfaOptions } from './run-cfa';
export { bankImages, epochBatches, epochOrders, fitCfa } from './fit';
export { assertMemoryBankFits } from './memory-bank-fit';
export type { EpochRecord, FitOptions, FittedCfa, ProgressEvent } from './fit';
export { predictCfa } from './predict';
export type { PredictOptions } from './predict';
export { createPatchDistances } from './patch-distances';
export type { PatchDistances, PatchDistancesOptions } from './patch-distances';
export { createOrtTrainStep } from './ort-train-step';
export type { OrtTrainStep, OrtTrainStepOptions, OrtTrainStepResult } from './ort-train-step';
export { createTrainer } from './trainer';
export type { StepLosses, Trainer, TrainerOptions } from './trainer';
export { CFA_MEMBER_FIELDS } from './cfa-member';
export { lowerCfaMap } from './cfa-onnx';
export { cfaFeatureSpace } from './feature-space';
