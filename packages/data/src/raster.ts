/**
 * An image or mask as the data package passes it between decoding, resampling and the views: HWC
 * row-major samples, `channels` per pixel (float32 in [0, 1] for images, or the 8-bit bytes).
 *
 * @example
 * ```ts
 * const image: Raster = { data: new Float32Array(4 * 3 * 3), width: 4, height: 3, channels: 3, bits: 8 };
 * ```
 */
export interface Raster<T extends Float32Array | Uint8Array = Float32Array> {
  data: T;
  width: number;
  height: number;
  channels: number;
  /** Bits per sample of the file it was decoded from (8: values are k/255), when known. */
  bits?: 8 | 16;
}
