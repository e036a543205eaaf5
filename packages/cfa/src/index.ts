/**
 * @cfa/cfa — the CFA method (Lee et al. 2022) as glue over the stage packages, like anomalib's
 * `lightning_model.py`: no maths here.
 *
 * - `CfaConfigSchema`: every setting of a run, with the paper's / reference code's defaults.
 * - `runCfaOnCategory`: index → backbone → embeddings (cached) → fit → predict for one category;
 *   with `ensemble: 'cfa++'` a second model on the resize-only companion view, maps averaged.
 * - `combineViewPredictions`: CFA++'s mean of the two views' maps on the primary view's grid.
 * - `fitCfa`, `predictCfa`, `createTrainer`: the parts, for callers that bring their own data.
 * - `createOrtTrainStep`, `createPatchDistances`: the fused ONNX Runtime graphs of a training step
 *   and of inference's embeddings → K nearest distances (TensorFlow.js falls back to the parts).
 * - `embedSamples`, `MemoryEmbeddingCache`, `DiskEmbeddingCache`, `embeddingKey`: the feature cache.
 * - `AdamW`: torch's AdamW (amsgrad, decoupled weight decay) on typed arrays.
 */
export {
  BackboneConfigSchema,
  CfaConfigSchema,
  DescriptorConfigSchema,
  MemoryBankConfigSchema,
  ScoringConfigSchema,
  TrainingConfigSchema,
} from './config';
export type { CfaConfig, CfaConfigInput } from './config';
export { AdamW, OptimizerConfigSchema } from './adamw';
export type { OptimizerConfig } from './adamw';
export { DiskEmbeddingCache, MemoryEmbeddingCache, embeddingKey } from './embedding-cache';
export type { EmbeddingCache, EmbeddingKeyParts } from './embedding-cache';
export {
  cachedEmbeddingSet,
  memoryEmbeddingSet,
  readEmbeddings,
  readPyramids,
  splitImages,
  stackImages,
} from './embedding-set';
export type { EmbeddingSet } from './embedding-set';
export { embedSamples, sampleViewKey } from './embed-samples';
export type { EmbedSamplesOptions, EmbeddedSamples } from './embed-samples';
export { fitCfa } from './fit';
export type { EpochRecord, FitOptions, FittedCfa, ProgressEvent } from './fit';
export { predictCfa } from './predict';
export type { PredictOptions, Prediction } from './predict';
export { createPatchDistances } from './patch-distances';
export type { PatchDistances, PatchDistancesOptions } from './patch-distances';
export { createOrtTrainStep } from './ort-train-step';
export type { OrtTrainStep, OrtTrainStepOptions, OrtTrainStepResult } from './ort-train-step';
export { createTrainer } from './trainer';
export type { StepLosses, Trainer, TrainerOptions } from './trainer';
export { runCfaOnCategory } from './run-category';
export type {
  CategoryRun,
  EnsembleMemberRun,
  PrimaryModel,
  RunCategoryOptions,
  RunPhase,
  RunProgress,
  RunTimings,
  ViewEnsembleRun,
} from './run-category';
export { combineViewPredictions } from './view-ensemble';
export type { CombineViewPredictionsParams } from './view-ensemble';
