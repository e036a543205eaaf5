/**
 * @cfa/patchcore — PatchCore (Roth et al. 2022) as its authors' code computes it
 * (amazon-science/patchcore-inspection; docs/patchcore.md), composed from the stage packages:
 *
 * - `patchcoreMethod`: the method for @cfa/method-kit (`runMethodOnCategory`, bundles, export).
 * - `PatchCoreConfigSchema` (+ `PATCHCORE_CONFIG_FIELDS`): layers, embedding dims, coreset
 *   fraction, neighbours, σ; the defaults are the authors' (WRN50-2, layer2 + layer3, 1024 > 1024, 10 %).
 * - `fitPatchCore`, `predictPatchCore`: the fit (coreset) and inference on cached features.
 * - `createPatchCoreExtractor`, `patchCoreFeatureKind`: the cached features.
 * - `lowerPatchCoreMap`: the member's scoring as an ONNX graph piece.
 *
 * The regenerable inputs of the fixtures computed by the reference code's own modules
 * (`patchCoreParityInputs`, `PATCHCORE_PARITY_SETTINGS`) are `@cfa/patchcore/testing`.
 */
export {
  CoresetConfigSchema,
  EmbeddingConfigSchema,
  PATCHCORE_CONFIG_FIELDS,
  PatchCoreConfigSchema,
  ScoringConfigSchema,
} from './config';
export type { PatchCoreConfig, PatchCoreConfigInput } from './config';
export { createPatchCoreExtractor, layerIndices, patchCoreFeatureKind } from './extractor';
export { fitPatchCore } from './fit';
export type { FitPatchCoreOptions, FittedPatchCore } from './fit';
export { predictPatchCore } from './predict';
export type { PredictPatchCoreOptions } from './predict';
export { lowerPatchCoreMap } from './patchcore-onnx';
export { patchcoreMethod } from './patchcore-method';
