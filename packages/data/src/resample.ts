/**
 * Separable resampling as Pillow computes it (`libImaging/Resample.c`), one implementation for
 * both filters the views use:
 *
 * - `resizeLanczos`: Pillow's Lanczos (`Image.LANCZOS`, which Pillow also calls `ANTIALIAS`). The
 *   CFA reference code resizes every image with `T.Resize(256, Image.ANTIALIAS)`
 *   (datasets/mvtec.py), so its inputs are Pillow's bytes: for 8-bit sources (`bits: 8`, what
 *   `decodeImage` gives for 8-bit files) the result is exactly those bytes / 255.
 * - `resizeBilinear` (resize.ts): the triangle filter in floating point — torch's
 *   `interpolate(mode='bilinear', antialias=True)` and Pillow's bilinear without its 8-bit rounding;
 *   `resizeBilinearPillow` with it, for 8-bit sources (Pillow's bytes / 255, as `resizeLanczos`).
 *
 * Pillow's algorithm: a horizontal pass, then a vertical one; each output index takes the filter —
 * its support widened by the downscale factor — over the input pixels whose centres fall in the
 * window, weights normalised to sum 1 (`precompute_coeffs`). For 8-bit images the normalised
 * weights become 22-bit fixed-point integers, each pass accumulates integer products from ½
 * (rounding) and clips to 0…255: the intermediate image after the horizontal pass is 8-bit too.
 *
 * @example
 * ```ts
 * const image = await decodeImage('bottle/test/broken_large/000.png'); // 900×900, bits 8
 * const small = resizeLanczos(image, 256, 256);                        // Pillow's bytes / 255
 * ```
 */
import type { Raster } from './raster';

/** Pillow's PRECISION_BITS for 8-bit resampling: 32 − 8 − 2. */
const PRECISION_BITS = 22;
const ONE = 2 ** PRECISION_BITS;

const sinc = (x: number): number => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));

/** A resampling filter: its weight function and its support (in input pixels at scale 1). */
interface ResamplingFilter {
  support: number;
  weight(x: number): number;
}

export const RESAMPLING_FILTERS = {
  /** Pillow's `lanczos_filter`: sinc(x)·sinc(x/3) on −3 ≤ x < 3. */
  lanczos: { support: 3, weight: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
  /** Pillow's `bilinear_filter`: 1 − |x| on |x| < 1. */
  triangle: { support: 1, weight: (x) => Math.max(0, 1 - Math.abs(x)) },
} satisfies Record<string, ResamplingFilter>;

interface Coefficients {
  /** First input index per output index. */
  start: Int32Array;
  /** Number of taps per output index. */
  count: Int32Array;
  /** [out, maxTaps] normalised weights. */
  weights: Float64Array;
  /** The same as 22-bit fixed point, rounded half away from zero (Pillow's normalize_coeffs_8bpc). */
  fixed: Float64Array;
  maxTaps: number;
}

/** Pillow's `precompute_coeffs` for the box [0, inSize) → outSize. */
function coefficients(inSize: number, outSize: number, filter: ResamplingFilter): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * maxTaps);
  const fixed = new Float64Array(outSize * maxTaps);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    // C's (int) truncates; both bounds are clamped right after, so truncation and floor agree
    const lo = Math.max(0, Math.trunc(centre - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(centre + support + 0.5));
    let total = 0;
    for (let j = lo; j < hi; j++) {
      const w = filter.weight((j - centre + 0.5) / filterScale);
      weights[i * maxTaps + (j - lo)] = w;
      total += w;
    }
    for (let j = 0; j < hi - lo; j++) {
      const k = i * maxTaps + j;
      if (total !== 0) weights[k] /= total;
      fixed[k] = weights[k] < 0 ? Math.trunc(-0.5 + weights[k] * ONE) : Math.trunc(0.5 + weights[k] * ONE);
    }
    start[i] = lo;
    count[i] = hi - lo;
  }
  return { start, count, weights, fixed, maxTaps };
}

/** Pillow's clip8: the fixed-point sum back to 0…255. */
function clip8(sum: number): number {
  if (sum >= ONE * 256) return 255;
  if (sum <= 0) return 0;
  return Math.floor(sum / ONE);
}

/**
 * One pass along an axis. `along` = 'x' resamples each row; 'y' each column. With `integer`, the
 * input holds 0…255 values and the output does too (Pillow's 8-bit path).
 */
function pass(
  data: Float64Array,
  width: number,
  height: number,
  channels: number,
  along: 'x' | 'y',
  c: Coefficients,
  integer: boolean,
): Float64Array {
  const outW = along === 'x' ? c.start.length : width;
  const outH = along === 'y' ? c.start.length : height;
  const out = new Float64Array(outW * outH * channels);
  const table = integer ? c.fixed : c.weights;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const o = along === 'x' ? x : y;
      const first = c.start[o];
      for (let ch = 0; ch < channels; ch++) {
        let sum = integer ? ONE / 2 : 0;
        for (let t = 0; t < c.count[o]; t++) {
          const src =
            along === 'x' ? (y * width + first + t) * channels + ch : ((first + t) * width + x) * channels + ch;
          sum += data[src] * table[o * c.maxTaps + t];
        }
        out[(y * outW + x) * channels + ch] = integer ? clip8(sum) : sum;
      }
    }
  }
  return out;
}

/**
 * @param src - HWC image; with `integer`, values k/255 (an 8-bit file).
 * @param outWidth - the output width.
 * @param outHeight - the output height.
 * @param filter - one of `RESAMPLING_FILTERS`.
 * @param integer - Pillow's 8-bit path (fixed-point weights, rounding and clipping per pass).
 * @returns the resized image; `bits: 8` only when it was resampled on the 8-bit path.
 */
export function resample(
  src: Raster,
  outWidth: number,
  outHeight: number,
  filter: ResamplingFilter,
  integer: boolean,
): Raster {
  const { width, height, channels } = src;
  // Pillow (and torchvision's Resize) hand back the image itself when the size does not change
  if (width === outWidth && height === outHeight) return { ...src, data: Float32Array.from(src.data) };
  let data: Float64Array = Float64Array.from(src.data, (v) => (integer ? Math.round(v * 255) : v));
  let w = width;
  let h = height;
  if (outWidth !== width) {
    data = pass(data, w, h, channels, 'x', coefficients(width, outWidth, filter), integer);
    w = outWidth;
  }
  if (outHeight !== height) {
    data = pass(data, w, h, channels, 'y', coefficients(height, outHeight, filter), integer);
    h = outHeight;
  }
  const out = Float32Array.from(data, (v) => (integer ? v / 255 : v));
  return { data: out, width: w, height: h, channels, ...(integer ? { bits: 8 as const } : {}) };
}

/** Pillow's Lanczos: on its 8-bit path for 8-bit sources (exactly its bytes / 255), else in float. */
export function resizeLanczos(src: Raster, outWidth: number, outHeight: number): Raster {
  return resample(src, outWidth, outHeight, RESAMPLING_FILTERS.lanczos, src.bits === 8);
}
