/**
 * Resampling on float images, written out so results are exact and platform-independent
 * (image decoders' own kernels differ between versions):
 *
 * - `resizeBilinear`: half-pixel centres (= torch `interpolate(mode='bilinear', align_corners=False)`)
 *   with antialiasing when downscaling, as PIL's bilinear / torch's `antialias=True`: a triangle
 *   filter whose support widens by the downscale factor (resample.ts, shared with Lanczos).
 *   Upscaling is plain bilinear. `resizeBilinearPillow` is the same filter on Pillow's 8-bit
 *   fixed-point path for 8-bit sources: what a view with `filter: bilinear` reads (the PatchCore
 *   and CRAD reference codes resize PIL images; the float path put P-AUROC 0.03 points off
 *   theirs, docs/fidelity.md §5).
 * - `resizeNearest`: Pillow's nearest (source ≈ (dst + ½)·in/out, accumulated as Pillow does), for masks.
 * - `rotateAboutCentre`: bilinear (image) or nearest (mask) rotation, zero fill.
 *
 * Images are HWC row-major with `channels` values per pixel.
 *
 * @example
 * ```ts
 * const small = resizeBilinear({ data, width: 900, height: 900, channels: 3 }, 256, 256);
 * ```
 */

import type { Raster } from './raster';
import { RESAMPLING_FILTERS, resample } from './resample';

/** Antialiased bilinear (the triangle filter widened when downscaling), in floating point. */
export function resizeBilinear(src: Raster, outWidth: number, outHeight: number): Raster {
  return resample(src, outWidth, outHeight, RESAMPLING_FILTERS.triangle, false);
}

/**
 * Pillow's `Image.resize(…, BILINEAR)` as a view reads an image: on an 8-bit source (`bits: 8`)
 * Pillow's fixed-point passes with their 8-bit intermediate and result, so the pixels are
 * exactly the bytes torchvision's `Resize` gives the reference code (PatchCore's and CRAD's
 * datasets resize PIL images); other sources in floating point, as `resizeBilinear`.
 */
export function resizeBilinearPillow(src: Raster, outWidth: number, outHeight: number): Raster {
  return resample(src, outWidth, outHeight, RESAMPLING_FILTERS.triangle, src.bits === 8);
}

export function resizeNearest<T extends Float32Array | Uint8Array>(
  src: Raster<T>,
  outWidth: number,
  outHeight: number,
): Raster<T> {
  const { width, height, channels, data } = src;
  const out = new (data.constructor as { new (n: number): T })(outHeight * outWidth * channels);
  const xs = nearestSources(width, outWidth);
  const ys = nearestSources(height, outHeight);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      for (let c = 0; c < channels; c++)
        out[(y * outWidth + x) * channels + c] = data[(ys[y] * width + xs[x]) * channels + c];
    }
  }
  return { data: out, width: outWidth, height: outHeight, channels };
}

/**
 * Pillow's nearest source indices (`ImagingScaleAffine`): the position starts at ½·in/out and
 * grows by in/out per output pixel, accumulated in double and truncated — not ⌊(i + ½)·in/out⌋,
 * which differs where that product is an exact integer (e.g. 30 → 45: i = 1 gives 0.999… → 0).
 */
function nearestSources(inSize: number, outSize: number): Int32Array {
  const step = inSize / outSize;
  const out = new Int32Array(outSize);
  let position = step * 0.5;
  for (let i = 0; i < outSize; i++) {
    out[i] = Math.min(inSize - 1, Math.trunc(position));
    position += step;
  }
  return out;
}

/** Rotates counter-clockwise by `angleDeg` about the image centre; outside pixels are 0. */
export function rotateAboutCentre<T extends Float32Array | Uint8Array>(
  src: Raster<T>,
  angleDeg: number,
  mode: 'bilinear' | 'nearest',
): Raster<T> {
  const { width, height, channels, data } = src;
  const out = new (data.constructor as { new (n: number): T })(data.length);
  if (angleDeg === 0) {
    out.set(data);
    return { ...src, data: out };
  }
  const a = (angleDeg * Math.PI) / 180;
  const cos = Math.cos(a),
    sin = Math.sin(a);
  const cx = width / 2,
    cy = height / 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // inverse map: the source point that lands on (x, y)
      const dx = x + 0.5 - cx,
        dy = y + 0.5 - cy;
      const sx = cos * dx - sin * dy + cx - 0.5;
      const sy = sin * dx + cos * dy + cy - 0.5;
      const o = (y * width + x) * channels;
      if (mode === 'nearest') {
        const ix = Math.round(sx),
          iy = Math.round(sy);
        if (ix < 0 || iy < 0 || ix >= width || iy >= height) continue;
        for (let c = 0; c < channels; c++) out[o + c] = data[(iy * width + ix) * channels + c];
        continue;
      }
      const x0 = Math.floor(sx),
        y0 = Math.floor(sy);
      const fx = sx - x0,
        fy = sy - y0;
      for (let c = 0; c < channels; c++) {
        let s = 0;
        for (const [xx, yy, w] of [
          [x0, y0, (1 - fx) * (1 - fy)],
          [x0 + 1, y0, fx * (1 - fy)],
          [x0, y0 + 1, (1 - fx) * fy],
          [x0 + 1, y0 + 1, fx * fy],
        ]) {
          if (xx >= 0 && yy >= 0 && xx < width && yy < height) s += w * data[(yy * width + xx) * channels + c];
        }
        out[o + c] = s;
      }
    }
  }
  // bilinear values between two 8-bit levels are no longer k/255
  const { bits: _bits, ...rest } = src;
  return mode === 'nearest' ? { ...src, data: out } : { ...rest, data: out };
}

/** Copies the square `size` at (top, left). */
export function crop<T extends Float32Array | Uint8Array>(
  src: Raster<T>,
  top: number,
  left: number,
  size: number,
): Raster<T> {
  const { width, channels, data } = src;
  if (top + size > src.height || left + size > width)
    throw new Error(`crop of ${size} at (${top}, ${left}) exceeds ${width}×${src.height}`);
  const out = new (data.constructor as { new (n: number): T })(size * size * channels);
  for (let y = 0; y < size; y++)
    out.set(
      data.subarray(((top + y) * width + left) * channels, ((top + y) * width + left + size) * channels),
      y * size * channels,
    );
  return { data: out, width: size, height: size, channels };
}
