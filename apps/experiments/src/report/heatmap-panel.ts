/**
 * The picture a researcher looks at for one test image: the input | its ground-truth mask | the
 * anomaly map over the input with the mask outlined in green. Map colours are scaled by one range
 * for the whole test set, so panels of different images compare.
 *
 * @example
 * ```ts
 * const png = await heatmapPanelPng({ image, mask, map, size: 224, range: [lo, hi] });
 * ```
 */
import { denormalizeToRgb8, encodePng } from '@cfa/data';
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
  /** Weight of the colormap over the image. */
  alpha?: number;
}

/** Returns RGB bytes [size, 3·size, 3]. */
export function heatmapPanel({ image, mask, map, size, range, alpha = 0.5 }: HeatmapPanelInput): Uint8Array {
  const rgb = denormalizeToRgb8(image, size, size);
  const width = 3 * size;
  const out = new Uint8Array(size * width * 3);
  const [lo, hi] = range;
  const span = hi > lo ? hi - lo : 1;
  const isEdge = (y: number, x: number) => {
    if (!mask[y * size + x]) return false;
    for (const [dy, dx] of [
      [-1, 0],
      [1, 0],
      [0, -1],
      [0, 1],
    ]) {
      const yy = y + dy,
        xx = x + dx;
      if (yy < 0 || xx < 0 || yy >= size || xx >= size || !mask[yy * size + xx]) return true;
    }
    return false;
  };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      const src = p * 3;
      const row = y * width;
      // panel 1: the image
      out.set(rgb.subarray(src, src + 3), (row + x) * 3);
      // panel 2: the mask
      out.fill(mask[p] ? 255 : 0, (row + size + x) * 3, (row + size + x) * 3 + 3);
      // panel 3: the map over the image, mask outline on top
      const o = (row + 2 * size + x) * 3;
      if (isEdge(y, x)) {
        out.set([0, 255, 0], o);
        continue;
      }
      const c = turbo((map[p] - lo) / span);
      for (let k = 0; k < 3; k++) out[o + k] = Math.round((1 - alpha) * rgb[src + k] + alpha * c[k]);
    }
  }
  return out;
}

export async function heatmapPanelPng(input: HeatmapPanelInput): Promise<Buffer> {
  return encodePng({ data: heatmapPanel(input), width: 3 * input.size, height: input.size, channels: 3 });
}
