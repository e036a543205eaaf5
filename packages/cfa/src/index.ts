/**
 * @cfa/cfa — the CFA method (Lee et al. 2022) as glue over the stage packages, like anomalib's
 * `lightning_model.py`: no maths here.
 *
 * - `CfaConfigSchema`: every setting of a run, with the paper's / reference code's defaults.
 * - `runCfaOnCategory`: index → backbone → embeddings (cached) → fit → predict for one category;
 *   with `ensemble: 'cfa++'` a second model on the resize-only companion view, maps averaged.
 * - `combineViewPredictions`: CFA++'s mean of the two views' maps on the primary view's grid.
 * - `fitCfa`, `predictCfa`, `createTrainer`: the parts, for callers that bring their own data;
 *   `assertMemoryBankFits`: γc against the patch grid and the K + J neighbours, before any work.
 * - `createOrtTrainStep`, `createPatchDistances`: the fused ONNX Runtime graphs of a training step
 *   and of inference's embeddings → K nearest distances (TensorFlow.js falls back to the parts).
 * - `embedSamples`, `MemoryEmbeddingCache`, `DiskEmbeddingCache`, `embeddingKey`: the feature cache;
 *   `createPatchEmbedder` (@cfa/descriptor's, re-exported): the images → embeddings runner that
 *   `embedSamples` takes, so that callers of the method need not reach into a stage package.
 *
 * - Trained models leave the run: `TrainedCfa` (`run.model`), thresholds from held-out normal
 *   images (`splitHoldout`, `calibrateThresholds`, `ThresholdsSchema`), the bundle (`saveModel`,
 *   `loadModel`, `ModelManifestSchema`, `ModelBundleError`; `memberModel`: one CFA++ member
 *   alone), scoring new images (`createImagePredictor`) and the one-graph ONNX export
 *   (`buildOnnxModel`).
 * - The reference protocol as config: `PRESETS`, `evaluatesEveryEpoch` (docs/defaults.md).
 *
 * The graphs and the optimiser come from the stage packages: descriptor (`lowerPyramidDescriptor`),
 * memory-bank (`lowerDescriptorNearest`), scoring (`lowerCfaLossGradient`, `lossGraphFeeds`) and
 * tensor-runtime (`AdamW`).
 */
export {
  BackboneConfigSchema,
  CalibrationConfigSchema,
  CfaConfigSchema,
  DescriptorConfigSchema,
  EvaluationConfigSchema,
  evaluatesEveryEpoch,
  MemoryBankConfigSchema,
  PRESETS,
  PresetSchema,
  ScoringConfigSchema,
  TrainingConfigSchema,
} from './config';
export type { CfaConfig, CfaConfigInput } from './config';
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
export { createPatchEmbedder } from '@cfa/descriptor';
export type { PatchEmbedder, PatchEmbedderOptions } from '@cfa/descriptor';
export type { EmbedSamplesOptions, EmbeddedSamples } from './embed-samples';
export { bankImages, epochBatches, epochOrders, fitCfa } from './fit';
export { assertMemoryBankFits } from './memory-bank-fit';
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
  RunCategoryOptions,
  RunPhase,
  RunProgress,
  RunTimings,
  ViewEnsembleRun,
} from './run-category';
export { combineViewPredictions } from './view-ensemble';
export type { CombineViewPredictionsParams } from './view-ensemble';
export { ThresholdsSchema, calibrateThresholds, splitHoldout } from './calibration';
export type { Thresholds } from './calibration';
export { memberModel } from './trained-model';
export type { MemberRole, TrainedCfa, TrainedMember } from './trained-model';
export {
  BackboneIdentitySchema,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  MODEL_MANIFEST_FILE,
  MODEL_TENSORS_FILE,
  MemberManifestSchema,
  ModelBundleError,
  ModelManifestSchema,
  loadModel,
  readModelManifest,
  saveModel,
} from './model-bundle';
export type { LoadModelOptions, LoadedModel, MemberManifest, ModelManifest } from './model-bundle';
export { createImagePredictor } from './predict-images';
export type { ImageInput, ImagePrediction, ImagePredictor } from './predict-images';
export { ONNX_EXPORT_VERSION, buildOnnxModel } from './export-onnx';
export type { OnnxExport, OnnxInputDescription } from './export-onnx';
