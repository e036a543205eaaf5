/**
 * @cfa/data — images in, model inputs out.
 *
 * - MVTec AD layout: `indexCategory` (dot-entries skipped), `checkCategoryFiles` (headers and masks
 *   of a whole index, before training), `loadSample`, `loadSamples`, `listCategories`, `categoryKind`.
 * - Views: `ViewSchema` (center-crop, resize, rd-mvtec), `viewKey`, `viewOutputSize`, `viewPlacement`,
 *   `inferenceView` (the deterministic view a trained model scores new images under);
 *   CFA++: `companionView` (the resize-only second view), `alignCompanionMap` (its map onto the
 *   primary view's grid).
 * - Preprocessing: `applyView` (resize/crop/rotate + ImageNet normalisation) = `viewRasters` then
 *   `normalizeImageNet`; `lowerImageNetNormalization` (the same normalisation as ONNX nodes);
 *   `denormalizeToRgb8`, `resizeLanczos` (Pillow's, as the reference code), `resizeBilinear`
 *   (antialiased), `resizeNearest`, `rotateAboutCentre`.
 * - Files: `decodeImage`, `decodeMask` (0/255 or 0/1, anything else refused), `readImageHeader`
 *   (size without decoding), `encodePng`, `writePngAtomic` (atomic writes: @cfa/io).
 * - The embedded default: `ensureSyntheticDataset`, `generateSyntheticDataset`; the categories by set
 *   (`SYNTHETIC_SETS`: `standard`, the default 5 textures + 10 objects with subtle defects, and
 *   `classic`, version 1's four), `SYNTHETIC_CATEGORIES` (the default set's), `ALL_SYNTHETIC_CATEGORIES`,
 *   `syntheticCategory` (one definition: render normal and defective images);
 *   `calibrationImages` (for random-init backbones' BatchNorm statistics).
 * - `DatasetError`: names the file and what was wrong.
 */
export { DatasetError } from './errors';
export {
  ResizeFilterSchema,
  ViewSchema,
  viewDefaultingTo,
  companionView,
  inferenceView,
  viewKey,
  viewOutputSize,
  viewPlacement,
} from './view';
export { alignCompanionMap } from './companion-map';
export type { AlignCompanionMapParams } from './companion-map';
export type { Placement, ResizeFilter, SourceSize, View } from './view';
export { crop, resizeBilinear, resizeNearest, rotateAboutCentre } from './resize';
export { resizeLanczos } from './resample';
export type { Raster } from './raster';
export { MAX_IMAGE_PIXELS, decodeImage, decodeMask, encodePng, readImageHeader, writePngAtomic } from './decode';
export type { ImageHeader, PngInput } from './decode';
export {
  IMAGENET_MEAN,
  IMAGENET_STD,
  applyView,
  denormalizeToRgb8,
  normalizeImageNet,
  viewRasters,
} from './preprocess';
export { lowerImageNetNormalization } from './normalize-onnx';
export type { ViewedSample } from './preprocess';
export {
  IMAGE_EXTENSIONS,
  MVTEC_OBJECTS,
  MVTEC_TEXTURES,
  categoryKind,
  checkCategoryFiles,
  indexCategory,
  listCategories,
  loadSample,
  loadSamples,
} from './mvtec';
export type { CategoryFilesReport, CategoryIndex, CategoryKind, LoadedSample, SampleRef } from './mvtec';
export {
  ALL_SYNTHETIC_CATEGORIES,
  SYNTHETIC_CATEGORIES,
  SYNTHETIC_SETS,
  syntheticCategory,
} from './synthetic/categories';
export type { SyntheticCategoryInfo, SyntheticSet } from './synthetic/categories';
export { calibrationImages } from './synthetic/calibration-images';
export type {
  DefectType,
  DefectiveImage,
  NormalImage,
  RenderOptions,
  SyntheticCategory,
  SyntheticKind,
} from './synthetic/category-types';
export {
  SYNTHETIC_GENERATOR_VERSION,
  SyntheticConfigSchema,
  ensureSyntheticDataset,
  generateSyntheticDataset,
  syntheticNormalPose,
} from './synthetic/generate';
export type { Pose as SyntheticPose } from './synthetic/pose';
export type { GenerateOptions, GenerateResult, SyntheticConfig, SyntheticConfigInput } from './synthetic/generate';
