/**
 * Test support of @cfa/method-kit, for specs of this and the method packages (never production
 * code; eslint refuses it there): a tiny synthetic category, and a small second method that runs
 * through the kit's code paths without being CFA; a reloaded bundle's maps against the run's.
 */
export { tinyDiscCategory } from './tiny-category';
export { positionMeanMethod } from './position-mean-method';
export type { FittedPositionMean, PositionMeanConfig } from './position-mean-method';
export { exportParity, onnxChecker } from './export-parity';
export type { ExportParity } from './export-parity';
export { categoryTestImages, predictedMapsError } from './bundle-maps';
