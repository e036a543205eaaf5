/**
 * @cfa/data — images in, model inputs out.
 *
 * - MVTec AD layout: `indexCategory`, `loadSample`, `loadSamples`, `listCategories`, `categoryKind`.
 * - Views: `ViewSchema` (center-crop, resize, rd-mvtec), `viewKey`, `viewOutputSize`, `viewPlacement`;
 *   CFA++: `companionView` (the resize-only second view), `alignCompanionMap` (its map onto the
 *   primary view's grid).
 * - Preprocessing: `applyView` (resize/crop/rotate + ImageNet normalisation), `denormalizeToRgb8`,
 *   `resizeBilinear` (antialiased), `resizeNearest`, `rotateAboutCentre`.
 * - Files: `decodeImage`, `decodeMask`, `encodePng`, `writePngAtomic` (atomic writes: @cfa/io).
 * - The embedded default: `ensureSyntheticDataset`, `generateSyntheticDataset`; the categories by set
 *   (`SYNTHETIC_SETS`: `standard`, the default 5 textures + 10 objects with subtle defects, and
 *   `classic`, version 1's four), `SYNTHETIC_CATEGORIES` (the default set's), `ALL_SYNTHETIC_CATEGORIES`,
 *   `syntheticCategory` (one definition: render normal and defective images);
 *   `calibrationImages` (for random-init backbones' BatchNorm statistics).
 * - `DatasetError`: names the file and what was wrong.
 */
export { DatasetError } from './errors';
export { ViewSchema, companionView, viewKey, viewOutputSize, viewPlacement } from './view';
export { alignCompanionMap } from './companion-map';
export type { AlignCompanionMapParams } from './companion-map';
export type { Placement, View } from './view';
export { crop, resizeBilinear, resizeNearest, rotateAboutCentre } from './resize';
export type { Raster } from './resize';
export { decodeImage, decodeMask, encodePng, writePngAtomic } from './decode';
export type { PngInput } from './decode';
export { IMAGENET_MEAN, IMAGENET_STD, applyView, denormalizeToRgb8 } from './preprocess';
export type { ViewedSample } from './preprocess';
export {
  IMAGE_EXTENSIONS,
  MVTEC_OBJECTS,
  MVTEC_TEXTURES,
  categoryKind,
  indexCategory,
  listCategories,
  loadSample,
  loadSamples,
} from './mvtec';
export type { CategoryIndex, CategoryKind, LoadedSample, SampleRef } from './mvtec';
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
} from './synthetic/generate';
export type { GenerateOptions, GenerateResult, SyntheticConfig, SyntheticConfigInput } from './synthetic/generate';
