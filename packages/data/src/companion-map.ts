/**
 * CFA++ alignment (docs/method.md, "Data": CFA++ averages the anomaly maps of two views). A map
 * computed on the resize-only companion of a view (`companionView`) covers the whole (rotated)
 * image; this moves it onto the primary view's pixel grid so that the two maps can be averaged
 * pixel by pixel.
 *
 * The primary's pixel (y, x) is pixel (top + y, left + x) of the (rotated) image resized to H×W
 * (R×R, R = the primary's `resize`, for a square source). So the companion map S'×S' is resampled
 * bilinearly to H×W — half-pixel
 * centres (align_corners = false), the convention of the maps' own upsampling; S' ≤ R for a
 * companion, so this is plain bilinear upsampling — and cropped at the sample's placement
 * (`viewPlacement(primary, sampleId)`: for rd-mvtec, the sample's own random offset). The rotation
 * needs nothing: both views rotate the sample by the same angle.
 *
 * @example
 * ```ts
 * const primary = ViewSchema.parse({ kind: 'center-crop' });          // 256 → 224
 * const aligned = alignCompanionMap({ map: companionMap, side: 224, primary, sampleId: 'test/crack/000' });
 * aligned.length; // 224 * 224, on the primary's grid
 * ```
 */
import { crop, resizeBilinear } from './resize';
import { type SourceSize, type View, viewKey, viewPlacement } from './view';

export interface AlignCompanionMapParams {
  /** The companion view's anomaly map [side, side], float32, row-major, covering the whole image. */
  map: Float32Array;
  /** Side of `map`. */
  side: number;
  /** The primary view (center-crop or rd-mvtec). */
  primary: View;
  /** The sample's id (rd-mvtec places every sample differently). */
  sampleId: string;
  /** The source image's size: a non-square source is placed differently by a center-crop view. */
  source?: SourceSize;
}

/**
 * @returns the map on the primary's grid, [size, size] float32, size = the primary's output side.
 * @throws Error when `map` does not hold side² values, or for a `resize` primary (no companion).
 */
export function alignCompanionMap({ map, side, primary, sampleId, source }: AlignCompanionMapParams): Float32Array {
  if (!Number.isInteger(side) || side <= 0 || map.length !== side * side) {
    throw new Error(`alignCompanionMap: map must hold [${side}, ${side}] values, got ${map.length}`);
  }
  if (primary.kind === 'resize')
    throw new Error(`alignCompanionMap: the primary view ${viewKey(primary)} is resize-only and has no companion`);
  const place = viewPlacement(primary, sampleId, source);
  const resized = resizeBilinear(
    { data: map, width: side, height: side, channels: 1 },
    place.resizeWidth,
    place.resizeHeight,
  );
  return crop(resized, place.top, place.left, place.size).data;
}
