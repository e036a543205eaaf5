/**
 * @cfa/method-kit — what every anomaly-localization method shares, so that each method package
 * (`@cfa/cfa`, `@cfa/patchcore`, `@cfa/padim`, …) is glue over the stage packages that supplies only
 * what makes it different, through one small interface (`AnomalyMethod`):
 *
 * - The interface: `AnomalyMethod` (extractor, fit, predict, member state, ONNX lowering),
 *   `FeatureExtractor`, `EpochRecord`, `Prediction`; the registry's config union
 *   (`methodConfigSchema`: `method: …` picks the schema, another method's field is named as such).
 * - Config fragments every method shares: `backboneConfigSchema`, `commonConfigFields` (view,
 *   calibration, ensemble, seed), `EvaluationConfigSchema`, `checkCommonFields`, `methodLiteral`.
 * - One run on a category: `runMethodOnCategory` (check files → backbone → features through the
 *   cache → fit → predict → calibrate; CFA++-style two-view ensembles, `combineViewPredictions`;
 *   per-epoch evaluation).
 * - The feature cache: `embedSamples`, `MemoryEmbeddingCache`, `DiskEmbeddingCache`,
 *   `embeddingKey`, `EmbeddingSet`.
 * - Thresholds from held-out normal images: `splitHoldout`, `calibrateThresholds`, `ThresholdsSchema`.
 * - Trained models leave the run: `TrainedModel`, `memberModel`, the bundle (`saveModel`,
 *   `loadModel`, `readModelManifest`, `ModelManifestSchema`, `ModelBundleError`; `canonicalJson`,
 *   the sorted-key JSON its digest and the sweep's cell keys use), scoring new images
 *   (`createImagePredictor`) and the one-graph ONNX export (`buildOnnxModel`).
 */
export {
  CalibrationConfigSchema,
  EnsembleSchema,
  EvaluationConfigSchema,
  backboneConfigSchema,
  checkCommonFields,
  commonConfigFields,
  evaluatesEveryEpoch,
  methodLiteral,
} from './common-config';
export type { BackboneConfig, CalibrationConfig, Ensemble, EvaluationConfig, MethodConfigBase } from './common-config';
export type {
  AnomalyMethod,
  AnyMethod,
  ConfigOf,
  EpochRecord,
  FeatureExtractor,
  FeatureSpaceProjector,
  FitContext,
  FitProgress,
  LowerInputContext,
  LowerMapContext,
  LoweredMember,
  MemberLoadContext,
  MemberState,
  PredictContext,
} from './method';
export { methodConfigSchema, methodNameOf } from './method-config';
export { predictionFromPatchScores } from './prediction';
export type { Prediction } from './prediction';
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
export { runMethodOnCategory, SharedFits } from './run-category';
export type {
  CategoryRun,
  EnsembleMemberRun,
  ModelSummary,
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
export type { MemberRole, TrainedMember, TrainedModel } from './trained-model';
export {
  BackboneIdentitySchema,
  canonicalJson,
  MANIFEST_DIGEST_KEY,
  manifestDigest,
  MEMBER_FIELDS,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  MODEL_MANIFEST_FILE,
  MODEL_TENSORS_FILE,
  ModelBundleError,
  ModelManifestSchema,
  readModelManifest,
} from './bundle-manifest';
export type { BackboneIdentity, MemberManifest, ModelManifest } from './bundle-manifest';
export { loadModel, saveModel } from './model-bundle';
export type { LoadModelOptions, LoadedModel } from './model-bundle';
export { createImagePredictor } from './predict-images';
export type { ImageInput, ImagePrediction, ImagePredictor } from './predict-images';
export { ONNX_EXPORT_VERSION, buildOnnxModel } from './export-onnx';
export type { OnnxExport, OnnxInputDescription } from './export-onnx';
