/**
 * The Gaussian blur written out directly, separable and in float64 (scipy's
 * `gaussian_filter(map, sigma)`: its kernel and 'reflect' borders from gaussian-blur.ts): the
 * oracle of `anomalyMaps`, which folds the blur and the upsampling into one matrix per axis.
 *
 * @example
 * ```ts
 * const smooth = gaussianBlur({ map, height: 224, width: 224, sigma: 4 });
 * ```
 */
import { gaussianKernel, reflectIndex } from '../gaussian-blur';

export interface GaussianBlurParams {
  /** [height, width] row-major. */
  map: Float32Array;
  height: number;
  width: number;
  sigma: number;
}

export function gaussianBlur({ map, height, width, sigma }: GaussianBlurParams): Float32Array {
  if (map.length !== height * width)
    throw new Error(`gaussianBlur: map must hold ${height}×${width} values, got ${map.length}`);
  const kernel = gaussianKernel(sigma);
  const radius = (kernel.length - 1) / 2;
  const tmp = new Float64Array(height * width);
  const out = new Float32Array(height * width);
  // scipy filters the last axis first; the order does not change the exact result, only rounding.
  // Borders are resolved once per row (a padded copy) and once per column index, so the inner
  // loops are plain multiply-adds in the same k order as a direct sum.
  const padded = new Float64Array(width + 2 * radius);
  const column = Int32Array.from({ length: width + 2 * radius }, (_, i) => reflectIndex(i - radius, width));
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let i = 0; i < padded.length; i++) padded[i] = map[row + column[i]];
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = 0; k < kernel.length; k++) s += kernel[k] * padded[x + k];
      tmp[row + x] = s;
    }
  }
  const rows = Int32Array.from({ length: height + 2 * radius }, (_, i) => reflectIndex(i - radius, height));
  const acc = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let k = 0; k < kernel.length; k++) {
      const w = kernel[k],
        base = rows[y + k] * width;
      for (let x = 0; x < width; x++) acc[x] += w * tmp[base + x];
    }
    for (let x = 0; x < width; x++) out[y * width + x] = acc[x];
  }
  return out;
}
