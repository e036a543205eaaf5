/**
 * A map resized bilinearly with half-pixel centres, written out pixel by pixel from
 * `bilinearTaps` (float64 weights): the oracle of `anomalyMaps`, which applies the same
 * upsampling as one matrix per axis composed with the blur.
 *
 * @example
 * ```ts
 * const big = upsampleBilinear(scores, 56, 56, 224, 224); // [56·56] → [224·224]
 * ```
 */
import { bilinearTaps } from '@cfa/descriptor';

/** Bilinear resize with half-pixel centres (align_corners = false), no antialiasing: for upsampling maps. */
export function upsampleBilinear(
  map: Float32Array | Float64Array,
  height: number,
  width: number,
  outHeight: number,
  outWidth: number,
): Float32Array {
  const rows = bilinearTaps(height, outHeight, 'float64'),
    cols = bilinearTaps(width, outWidth, 'float64');
  const out = new Float32Array(outHeight * outWidth);
  for (let y = 0; y < outHeight; y++) {
    const y0 = rows.lower[y],
      y1 = rows.upper[y],
      wy = rows.wUpper[y];
    for (let x = 0; x < outWidth; x++) {
      const x0 = cols.lower[x],
        x1 = cols.upper[x],
        wx = cols.wUpper[x];
      const top = map[y0 * width + x0] * (1 - wx) + map[y0 * width + x1] * wx;
      const bottom = map[y1 * width + x0] * (1 - wx) + map[y1 * width + x1] * wx;
      out[y * outWidth + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}
