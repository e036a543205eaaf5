/**
 * @cfa/fyd — FYD (Zheng et al. 2022, arXiv 2110.04538), re-implemented from its public
 * description (no authors' code is public; docs/methods/fyd.md lists the sources and every
 * assumption), as a method of @cfa/method-kit:
 *
 * - `fydMethod`: the `AnomalyMethod` (features = the viewed images; fit: image-level spatial
 *   transformer → frozen backbone → feature-level transformers + non-contrastive adaptor →
 *   per-position Gaussians; predict: the Mahalanobis map; export: `lowerInput` + `lowerMap`).
 * - `FydConfigSchema`, `FYD_CONFIG_FIELDS`, `alignmentLabel`: the config (`alignment.image`,
 *   `.feature`, `.fine` switch the stages).
 * - `fitFyd`, `fitImageAlignment` (stage 1 alone), `predictFyd`, `imageAlignmentStep`,
 *   `fineAlignmentStep`: the glue, for tests and tools.
 */
export { fydMethod } from './fyd-method';
export { FYD_CONFIG_FIELDS, FydConfigSchema, alignmentLabel } from './config';
export type { AlignmentStages, FydConfig, FydConfigInput } from './config';
export { fitFyd, fitImageAlignment, poseBounds } from './fit';
export type { FittedFyd, FitFydOptions, FydEpochRecord } from './fit';
export { predictFyd } from './predict';
export { fineAlignmentStep, imageAlignmentStep } from './training-steps';
export type { FineStepResult, ImageBatch } from './training-steps';
