/**
 * Connected components of one binary mask: the "regions" of the per-region overlap (PRO).
 * 8-connectivity by default, as the MVTec AD evaluation code (`scipy.ndimage.label` with a 3×3
 * structure of ones) and anomalib (`cv2.connectedComponents`, connectivity 8): two pixels that
 * touch only at a corner are one region. 4-connectivity on request.
 *
 * Labels follow raster order: the region containing the first foreground pixel (row-major) is 1,
 * the next unlabelled one 2, and so on.
 *
 * Mirrors: anomalib `src/anomalib/metrics/pro.py` (`connected_components_cpu`, used by `aupro.py`).
 *
 * @example
 * ```ts
 * import { connectedComponents } from '@cfa/metrics';
 * const diagonal = Uint8Array.of(1, 0, 0, 1); // 2×2
 * connectedComponents({ mask: diagonal, height: 2, width: 2 }).count; // 1
 * connectedComponents({ mask: diagonal, height: 2, width: 2, connectivity: 4 }).count; // 2
 * ```
 */

export interface Components {
  /** Component id per pixel, [height·width] row-major: 0 = background, 1..count = region. */
  labels: Int32Array;
  /** Number of regions. */
  count: number;
  /** Pixels per region, [count + 1]: sizes[id] (sizes[0] is 0, unused). */
  sizes: Int32Array;
}

export interface ConnectedComponentsParams {
  /** One mask, [height, width] row-major; 0 = background, anything else = foreground. */
  mask: ArrayLike<number>;
  height: number;
  width: number;
  /** 8 (default: corners touch) or 4 (edges only). */
  connectivity?: 4 | 8;
}

/**
 * The regions of one mask (the fields of `ConnectedComponentsParams` say what each argument holds).
 *
 * @returns per-pixel labels, the region count and the region sizes.
 * @throws Error when the mask length is not height·width, or connectivity is not 4 or 8.
 */
export function connectedComponents({ mask, height, width, connectivity = 8 }: ConnectedComponentsParams): Components {
  if (mask.length !== height * width) {
    throw new Error(
      `connectedComponents: mask has ${mask.length} values, expected ${height * width} (height ${height} × width ${width})`,
    );
  }
  if (connectivity !== 4 && connectivity !== 8)
    throw new Error(`connectedComponents: connectivity must be 4 or 8, got ${connectivity}`);
  const labels = new Int32Array(height * width);
  const sizes: number[] = [0];
  // each pixel is labelled when pushed, so it is pushed at most once
  const stack = new Int32Array(height * width);
  const diagonals = connectivity === 8;
  let count = 0;
  for (let start = 0; start < labels.length; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    const id = ++count;
    labels[start] = id;
    let top = 0;
    stack[top++] = start;
    let size = 0;
    while (top > 0) {
      const p = stack[--top];
      size++;
      const y = (p / width) | 0;
      const x = p - y * width;
      const y0 = y > 0 ? y - 1 : y;
      const y1 = y < height - 1 ? y + 1 : y;
      const x0 = x > 0 ? x - 1 : x;
      const x1 = x < width - 1 ? x + 1 : x;
      for (let yy = y0; yy <= y1; yy++) {
        for (let xx = x0; xx <= x1; xx++) {
          if (!diagonals && yy !== y && xx !== x) continue;
          const q = yy * width + xx;
          if (mask[q] !== 0 && labels[q] === 0) {
            labels[q] = id;
            stack[top++] = q;
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, count, sizes: Int32Array.from(sizes) };
}
