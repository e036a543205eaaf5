/**
 * PatchCore's locally aware patch features (`local-patch-features.ts`, the same four steps) as
 * ONNX nodes appended to a graph that holds the backbone: the p×p neighbourhoods as p² shifted
 * Slices of the zero-padded map stacked behind each channel (`torch.nn.Unfold`'s order), the
 * adaptive average pooling of `adaptivePoolBins` (Reshape + ReduceMean for disjoint equal bins,
 * else weighted Gathers), Resize linear / half_pixel to the first map's grid, Concat, and the
 * final pooling to `targetDim`.
 *
 * @example
 * ```ts
 * const maps = lowerBackboneToOnnx(g, backbone, input);           // NCHW
 * const features = lowerLocalPatchFeatures(g, maps.slice(1), shapes.slice(1), { patchSize: 3, preDim: 1024, targetDim: 1024 });
 * // [N, 1024, 28, 28] (NCHW)
 * ```
 */
import { attr, type OnnxGraphBuilder } from '@cfa/tensor-runtime';
import type { FeatureShape } from '@cfa/backbone';
import { adaptivePoolBins, adaptivePoolTaps } from './adaptive-pool';
import { checkLocalPatchOptions } from './local-patch-features';
import { lowerResizeBilinear } from './patch-embedding-onnx';

export interface LocalPatchFeatureOptions {
  patchSize: number;
  preDim: number;
  targetDim: number;
}

/** x [N, C, h, w] → [N, C·p², h, w], channel c's window at c·p² + ky·p + kx. */
function lowerUnfold(g: OnnxGraphBuilder, x: string, shape: FeatureShape, patchSize: number): string {
  if (patchSize === 1) return x;
  const { channels: c, height: h, width: w } = shape;
  const r = (patchSize - 1) / 2;
  const padded = g.node('Pad', [x, g.ints('pads', [0, 0, r, r, 0, 0, r, r])], { mode: attr.string('constant') })[0];
  const axis2 = g.ints('axes', [2]);
  const shifts: string[] = [];
  for (let ky = 0; ky < patchSize; ky++)
    for (let kx = 0; kx < patchSize; kx++) {
      const shifted = g.node('Slice', [
        padded,
        g.ints('starts', [ky, kx]),
        g.ints('ends', [ky + h, kx + w]),
        g.ints('axes', [2, 3]),
      ])[0];
      shifts.push(g.node('Unsqueeze', [shifted, axis2])[0]);
    }
  const stacked = g.node('Concat', shifts, { axis: attr.int(2) })[0]; // [N, C, p², h, w]
  return g.node('Reshape', [stacked, g.ints('shape', [-1, c * patchSize * patchSize, h, w])])[0];
}

/** Adaptive average pooling of axis 1 of x [N, L, h, w] to `outLength`. */
function lowerPoolChannels(
  g: OnnxGraphBuilder,
  x: string,
  { length, height, width }: { length: number; height: number; width: number },
  outLength: number,
): string {
  const bins = adaptivePoolBins(length, outLength);
  if (bins.uniformWidth === 1) return x;
  if (bins.uniformWidth > 1) {
    const grouped = g.node('Reshape', [x, g.ints('shape', [-1, outLength, bins.uniformWidth, height, width])])[0];
    return g.node('ReduceMean', [grouped], { axes: attr.ints([2]), keepdims: attr.int(0) })[0];
  }
  const { indices, weights } = adaptivePoolTaps(bins);
  const slots = indices.map((index, s) => {
    const gathered = g.node('Gather', [x, g.ints('pool_index', Array.from(index))], { axis: attr.int(1) })[0];
    const weight = g.initializer(g.fresh('pool_weight'), weights[s], [1, outLength, 1, 1]);
    return g.node('Mul', [gathered, weight])[0];
  });
  return slots.length === 1 ? slots[0] : g.node('Sum', slots)[0];
}

/**
 * Args:
 *   maps: NCHW value names of the maps to aggregate, the patch grid's first.
 *   shapes: their shapes (from `featureShapesFor`).
 * Returns: the NCHW value name of the [N, targetDim, H, W] features.
 */
export function lowerLocalPatchFeatures(
  g: OnnxGraphBuilder,
  maps: string[],
  shapes: FeatureShape[],
  options: LocalPatchFeatureOptions,
): string {
  const { patchSize, preDim, targetDim } = options;
  checkLocalPatchOptions('lowerLocalPatchFeatures', options);
  if (maps.length === 0 || maps.length !== shapes.length)
    throw new Error(
      `lowerLocalPatchFeatures: ${maps.length} maps with ${shapes.length} shapes; expected one shape per map`,
    );
  const { height, width } = shapes[0];
  const layers = maps.map((m, i) => {
    const { channels, height: h, width: w } = shapes[i];
    const unfolded = lowerUnfold(g, m, shapes[i], patchSize);
    const pooled = lowerPoolChannels(
      g,
      unfolded,
      { length: channels * patchSize * patchSize, height: h, width: w },
      preDim,
    );
    return h === height && w === width ? pooled : lowerResizeBilinear(g, pooled, height, width);
  });
  const stacked = layers.length === 1 ? layers[0] : g.node('Concat', layers, { axis: attr.int(1) })[0];
  return lowerPoolChannels(g, stacked, { length: layers.length * preDim, height, width }, targetDim);
}
