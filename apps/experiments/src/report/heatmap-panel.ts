/**
 * The rasters of one test image's panel (paper Fig. 4): the input, its ground-truth mask, the
 * anomaly map over the input with the ground truth outlined in green, and — when the run has a
 * deployed pixel threshold — the predicted segmentation (map > threshold, the deployed rule of
 * `@cfa/cfa`'s calibration) tinted and outlined in
 * red beside the ground truth's green outline. Map colours are scaled by one range for the whole
 * test set, so panels of different images compare. `heatmap-figure.ts` lays them out with titles.
 *
 * @example
 * ```ts
 * const rasters = heatmapRasters({ image, mask, map, size: 224, range: [lo, hi], threshold: 1.7 });
 * ```
 */
import { denormalizeToRgb8 } from '@cfa/data';
import { turbo } from './colormap';

export interface HeatmapPanelInput {
  /** ImageNet-normalised [size, size, 3]. */
  image: Float32Array;
  /** 0/1 [size, size]. */
  mask: Uint8Array;
  /** Anomaly map [size, size]. */
  map: Float32Array;
  size: number;
  /** Score range mapped to the colormap's ends. */
  range: [number, number];
  /** Deployed pixel threshold: the segmentation panel is drawn only with one. */
  threshold?: number;
  /** Weight of the colormap over the image. */
  alpha?: number;
}

/** RGB bytes [size, size, 3] each. */
export interface HeatmapRasters {
  image: Uint8Array;
  truth: Uint8Array;
  overlay: Uint8Array;
  segmentation?: Uint8Array;
}

const GREEN: [number, number, number] = [0, 230, 0];
const RED: [number, number, number] = [255, 40, 40];

/** Pixels of `region` with a 4-neighbour outside it (or on the border): its outline. */
export function outlineOf(region: ArrayLike<number>, size: number): Uint8Array {
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      if (!region[p]) continue;
      if (x === 0 || y === 0 || x === size - 1 || y === size - 1) out[p] = 1;
      else if (!region[p - 1] || !region[p + 1] || !region[p - size] || !region[p + size]) out[p] = 1;
    }
  return out;
}

export function heatmapRasters({
  image,
  mask,
  map,
  size,
  range,
  threshold,
  alpha = 0.5,
}: HeatmapPanelInput): HeatmapRasters {
  const rgb = denormalizeToRgb8(image, size, size);
  const pixels = size * size;
  const truthEdge = outlineOf(mask, size);
  const truth = new Uint8Array(pixels * 3);
  const overlay = new Uint8Array(pixels * 3);
  const [lo, hi] = range;
  const span = hi > lo ? hi - lo : 1;
  for (let p = 0; p < pixels; p++) {
    truth.fill(mask[p] ? 255 : 0, p * 3, p * 3 + 3);
    const c = truthEdge[p] ? GREEN : turbo((map[p] - lo) / span);
    const a = truthEdge[p] ? 1 : alpha;
    for (let k = 0; k < 3; k++) overlay[p * 3 + k] = Math.round((1 - a) * rgb[p * 3 + k] + a * c[k]);
  }
  if (threshold === undefined) return { image: rgb, truth, overlay };
  const predicted = Uint8Array.from(map, (v) => (v > threshold ? 1 : 0));
  const predictedEdge = outlineOf(predicted, size);
  const segmentation = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    for (let k = 0; k < 3; k++) {
      const base = predicted[p] ? 0.65 * rgb[p * 3 + k] + 0.35 * RED[k] : rgb[p * 3 + k];
      segmentation[p * 3 + k] = Math.round(predictedEdge[p] ? RED[k] : truthEdge[p] ? GREEN[k] : base);
    }
  }
  return { image: rgb, truth, overlay, segmentation };
}

/**
 * Rasters [size, size, 3] side by side as one RGB image [size, n·size, 3]: the `predict`
 * command's panels, which have no ground truth and no titles, so no chart is needed.
 */
export function sideBySide(rasters: Uint8Array[], size: number): Uint8Array {
  const n = rasters.length;
  const out = new Uint8Array(size * n * size * 3);
  for (let y = 0; y < size; y++)
    rasters.forEach((r, k) => out.set(r.subarray(y * size * 3, (y + 1) * size * 3), (y * n * size + k * size) * 3));
  return out;
}
