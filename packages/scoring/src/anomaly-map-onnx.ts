/**
 * The anomaly map of `anomaly-map.ts` (paper §3.4; anomalib `cfa/anomaly_map.py`) as ONNX graph
 * pieces, for a model exported as one graph from image to map:
 *
 *   `lowerPatchAnomalyScores`: squared distances [P, k] → A_t = softmin(d)[1] · d₁ per patch, [P]
 *   `lowerAnomalyMaps`:        [N·H·W] patch scores → A_h · S · A_wᵀ, [N, size, size]
 *   `lowerImageScores`:        maps → their maxima, [N]
 *   `lowerNearestNeighbourScores`: PatchCore's patch score, the mean of the k nearest squared distances
 *
 * The upsampling + blur operator is `mapOperatorMatrix` itself (the matrices `anomalyMaps`
 * applies), stored as float32 constants; the softmin is shifted by d₁ as in `patchAnomalyScores`.
 *
 * @example
 * ```ts
 * const [distances] = lowerNearest(g, phi, ct, cn, 3);                       // [N·3136, 3]
 * const patch = lowerPatchAnomalyScores(g, distances, { k: 3, K: 3, metric: 'euclidean' });
 * const maps = lowerAnomalyMaps(g, patch, { height: 56, width: 56, outputSize: 224, sigma: 4 });
 * const scores = lowerImageScores(g, maps);                                   // [N]
 * ```
 */
import { attr, type OnnxGraphBuilder } from '@cfa/tensor-runtime';
import { type DistanceMetric, mapOperatorMatrix } from './anomaly-map';

/** A_t = d₁ / Σ_k exp(−(d_k − d₁)) over the first K of k ascending squared distances per row; [P]. */
export function lowerPatchAnomalyScores(
  g: OnnxGraphBuilder,
  distances: string,
  { k, K, metric }: { k: number; K: number; metric: DistanceMetric },
): string {
  if (K > k || K < 1) throw new Error(`lowerPatchAnomalyScores: K must be in [1, ${k}], got ${K}`);
  const columns = (from: number, to: number, v: string) =>
    g.node('Slice', [v, g.ints('starts', [from]), g.ints('ends', [to]), g.ints('axes', [1])])[0];
  // the expanded form ‖f‖²+‖c‖²−2f·c can dip below 0 by rounding; a distance cannot
  const squared = g.node('Relu', [K < k ? columns(0, K, distances) : distances])[0];
  const d = metric === 'euclidean' ? g.node('Sqrt', [squared])[0] : squared;
  const nearest = columns(0, 1, d); // [P, 1]
  const shifted = g.node('Exp', [g.node('Neg', [g.node('Sub', [d, nearest])[0]])[0]])[0];
  const denominator = g.node('ReduceSum', [shifted, g.ints('axes', [1])], { keepdims: attr.int(1) })[0];
  return g.node('Reshape', [g.node('Div', [nearest, denominator])[0], g.ints('shape', [-1])])[0];
}

/** PatchCore's patch score (`nearestNeighbourScores`): the mean of each row's k squared distances [P, k], clamped at 0; [P]. */
export function lowerNearestNeighbourScores(g: OnnxGraphBuilder, distances: string, k: number): string {
  const clamped = g.node('Relu', [distances])[0];
  if (k === 1) return g.node('Reshape', [clamped, g.ints('shape', [-1])])[0];
  return g.node('ReduceMean', [clamped], { axes: attr.ints([1]), keepdims: attr.int(0) })[0];
}

/** The [N·height·width] patch scores as maps [N, outputSize, outputSize]: bilinear upsampling and Gaussian blur (σ). */
export function lowerAnomalyMaps(
  g: OnnxGraphBuilder,
  scores: string,
  { height, width, outputSize, sigma }: { height: number; width: number; outputSize: number; sigma: number },
): string {
  return lowerSeparableMaps(g, scores, {
    height,
    width,
    outputSize,
    rows: mapOperatorMatrix(height, outputSize, sigma),
    cols: mapOperatorMatrix(width, outputSize, sigma),
  });
}

/**
 * Patch maps (any layout holding [N, height, width] values) → A_h · S · A_wᵀ [N, outputSize,
 * outputSize], the operators `rows` [outputSize, height] and `cols` [outputSize, width] stored as
 * float32 constants.
 */
export function lowerSeparableMaps(
  g: OnnxGraphBuilder,
  scores: string,
  p: { height: number; width: number; outputSize: number; rows: Float64Array; cols: Float64Array },
): string {
  const { height, width, outputSize } = p;
  const rows = g.initializer(g.fresh('map_rows'), Float32Array.from(p.rows), [outputSize, height]);
  const colsT = new Float32Array(width * outputSize);
  for (let i = 0; i < outputSize; i++)
    for (let j = 0; j < width; j++) colsT[j * outputSize + i] = p.cols[i * width + j];
  const colsTransposed = g.initializer(g.fresh('map_cols_t'), colsT, [width, outputSize]);
  const patchMaps = g.node('Reshape', [scores, g.ints('shape', [-1, height, width])])[0];
  // [size, H] · [N, H, W] broadcasts to [N, size, W]; then · [W, size]
  return g.node('MatMul', [g.node('MatMul', [rows, patchMaps])[0], colsTransposed])[0];
}

/** The maximum of each map [N, size, size]: [N]. */
export function lowerImageScores(g: OnnxGraphBuilder, maps: string): string {
  return g.node('ReduceMax', [maps], { axes: attr.ints([1, 2]), keepdims: attr.int(0) })[0];
}
