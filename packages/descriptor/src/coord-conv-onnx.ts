/**
 * The CoordConv as ONNX graph pieces, shared by the forward runner, the weight-gradient runner and
 * any fused graph that needs φ or ∂loss/∂W without bringing φ back to JavaScript (the cfa trainer's
 * one-run training step). Weights and bias are graph inputs because they train.
 *
 *   φ       = X · W[:D] + (coords · W[D:] + b)     (coords are the same for every image)
 *   ∂W[:D]  = Xᵀ · G,  ∂W[D:] = coordsᵀ · Σ_b G_b,  ∂b = Σ_P G
 *
 * @example
 * ```ts
 * const g = new OnnxGraphBuilder('descriptor');
 * const shape = { hw: 3136, inChannels: 448, coordChannels: 2, outChannels: 448 };
 * const phi = lowerCoordConvForward(g, g.input('x', [3136, 448]), coordConvWeightInputs(g, shape), coordinatesInitializer(g, 56, 56, 2), 'image');
 * // feeds: { x, ...coordConvWeightFeeds(params.weight, params.bias, shape) }
 * ```
 */
import { attr, type OnnxGraphBuilder } from '@cfa/tensor-runtime';
import { coordinateChannels } from './coord-conv';
import { bilinearMatrix } from './bilinear';
import { type EmbeddingLevel, pyramidLevels } from './embedding-pyramid';

export interface CoordConvShape {
  hw: number;
  inChannels: number;
  coordChannels: number;
  outChannels: number;
}

/** Graph values of the CoordConv's parameters: W split at row D (zero-copy subarrays when fed). */
export interface CoordConvWeights {
  /** W[:D], [D, D′]. */
  weightX: string;
  /** W[D:], [c, D′] (the coordinate rows). */
  weightC: string;
  /** b, [D′]. */
  bias: string;
}

/** The [HW, c] coordinate channels as a graph constant. */
export function coordinatesInitializer(
  g: OnnxGraphBuilder,
  height: number,
  width: number,
  coordChannels: number,
): string {
  return g.initializer(g.fresh('coords'), coordinateChannels(height, width, coordChannels === 3), [
    height * width,
    coordChannels,
  ]);
}

/** Graph inputs for W (as its two parts) and b, named weight_x, weight_c, bias. */
export function coordConvWeightInputs(g: OnnxGraphBuilder, shape: CoordConvShape): CoordConvWeights {
  return {
    weightX: g.input('weight_x', [shape.inChannels, shape.outChannels]),
    weightC: g.input('weight_c', [shape.coordChannels, shape.outChannels]),
    bias: g.input('bias', [shape.outChannels]),
  };
}

/** The feeds of `coordConvWeightInputs` from a [D + c, D′] weight: views, not copies. */
export function coordConvWeightFeeds(weight: Float32Array, bias: Float32Array, shape: CoordConvShape) {
  const { inChannels: d, coordChannels: c, outChannels: dOut } = shape;
  return {
    weight_x: { data: weight.subarray(0, d * dOut), dims: [d, dOut] },
    weight_c: { data: weight.subarray(d * dOut, (d + c) * dOut), dims: [c, dOut] },
    bias: { data: bias, dims: [dOut] },
  };
}

/**
 * φ of x. `image`: x is one image [HW, D] and the coordinate term rides in the Gemm's C (no extra
 * pass over φ); `batch`: x is [B, HW, D] (MatMul, then the [HW, D′] coordinate term broadcast).
 */
export function lowerCoordConvForward(
  g: OnnxGraphBuilder,
  x: string,
  weights: CoordConvWeights,
  coords: string,
  layout: 'image' | 'batch',
): string {
  const coordTerm = lowerCoordinateTerm(g, coords, weights);
  if (layout === 'image') return g.node('Gemm', [x, weights.weightX, coordTerm])[0];
  return g.node('Add', [g.node('MatMul', [x, weights.weightX])[0], coordTerm])[0];
}

/** [∂W, ∂b] from x [P, D] and G [P, D′], P a whole number of images of HW patches. */
export function lowerCoordConvWeightGradient(
  g: OnnxGraphBuilder,
  x: string,
  grad: string,
  coords: string,
  shape: CoordConvShape,
): [string, string] {
  const { hw, outChannels: dOut } = shape;
  // Gemm with transA reads X in place; MatMul(Transpose(X), G) would copy X first
  const dWx = g.node('Gemm', [x, grad], { transA: attr.int(1) })[0];
  const perLocation = g.node(
    'ReduceSum',
    [g.node('Reshape', [grad, g.ints('shape', [-1, hw, dOut])])[0], g.ints('axes', [0])],
    { keepdims: attr.int(0) },
  )[0];
  const dWc = g.node('Gemm', [coords, perLocation], { transA: attr.int(1) })[0];
  const gradWeight = g.node('Concat', [dWx, dWc], { axis: attr.int(0) })[0];
  const gradBias = g.node('ReduceSum', [perLocation, g.ints('axes', [0])], { keepdims: attr.int(0) })[0];
  return [gradWeight, gradBias];
}

/** Graph values of the CoordConv's parameters for a pyramid input: W split by level. */
export interface PyramidWeights {
  /** W's rows of each level, [C_l, D′]. */
  levels: string[];
  /** W[D:], [c, D′]. */
  weightC: string;
  /** b, [D′]. */
  bias: string;
}

/** Graph inputs weight_0 … weight_{L−1}, weight_c and bias. */
export function pyramidWeightInputs(
  g: OnnxGraphBuilder,
  levels: EmbeddingLevel[],
  coordChannels: number,
  outChannels: number,
): PyramidWeights {
  return {
    levels: levels.map((l, i) => g.input(`weight_${i}`, [l.channels, outChannels])),
    weightC: g.input('weight_c', [coordChannels, outChannels]),
    bias: g.input('bias', [outChannels]),
  };
}

/** The feeds of `pyramidWeightInputs` from a [D + c, D′] weight: views, not copies. */
export function pyramidWeightFeeds(
  weight: Float32Array,
  bias: Float32Array,
  levels: EmbeddingLevel[],
  coordChannels: number,
  outChannels: number,
) {
  const feeds: Record<string, { data: Float32Array; dims: number[] }> = {};
  let row = 0;
  levels.forEach((l, i) => {
    feeds[`weight_${i}`] = {
      data: weight.subarray(row * outChannels, (row + l.channels) * outChannels),
      dims: [l.channels, outChannels],
    };
    row += l.channels;
  });
  feeds.weight_c = {
    data: weight.subarray(row * outChannels, (row + coordChannels) * outChannels),
    dims: [coordChannels, outChannels],
  };
  feeds.bias = { data: bias, dims: [outChannels] };
  return feeds;
}

/** Graph inputs `${name}_0 … ${name}_{L−1}` for one image's pyramid levels, each [h·w, C_l]; `pyramidFeeds` fills them. */
export function pyramidInputs(g: OnnxGraphBuilder, levels: EmbeddingLevel[], name = 'x'): string[] {
  return levels.map((l, i) => g.input(`${name}_${i}`, [l.height * l.width, l.channels]));
}

/** The feeds of `pyramidInputs` from one image's pyramid: views, not copies. */
export function pyramidFeeds(
  pyramid: Float32Array,
  levels: EmbeddingLevel[],
  name = 'x',
): Record<string, { data: Float32Array; dims: number[] }> {
  return Object.fromEntries(
    pyramidLevels(pyramid, levels).map((data, i) => [
      `${name}_${i}`,
      { data, dims: [levels[i].height * levels[i].width, levels[i].channels] },
    ]),
  );
}

/** A `bilinearMatrix(n, m)` constant ([m, n]), or its transpose ([n, m]). */
function resampleMatrix(g: OnnxGraphBuilder, n: number, m: number, transposed: boolean): string {
  const u = bilinearMatrix(n, m);
  if (!transposed) return g.initializer(g.fresh('upsample'), u, [m, n]);
  const t = new Float32Array(u.length);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = u[i * n + j];
  return g.initializer(g.fresh('upsample_t'), t, [n, m]);
}

/** `value` reshaped to `dims` (the resampled axis first), times a `bilinearMatrix(n, m)` constant or its transpose. */
function lowerAxisResample(
  g: OnnxGraphBuilder,
  value: string,
  n: number,
  m: number,
  transposed: boolean,
  dims: number[],
): string {
  return g.node('MatMul', [resampleMatrix(g, n, m, transposed), lowerReshape(g, value, dims)])[0];
}

function lowerReshape(g: OnnxGraphBuilder, value: string, dims: number[]): string {
  return g.node('Reshape', [value, g.ints('shape', dims)])[0];
}

/**
 * A level's [h·w, D′] values bilinearly upsampled to the first level's grid, [H·W, D′]: two small
 * products with `bilinearMatrix` constants, rows on [h, w·D′], then columns on [H, w, D′].
 */
function lowerUpsample(g: OnnxGraphBuilder, value: string, level: EmbeddingLevel, grid: EmbeddingLevel): string {
  const { height: h, width: w } = level,
    { height: H, width: W } = grid;
  let v = value;
  if (h !== H) v = lowerAxisResample(g, v, h, H, false, [h, -1]);
  if (w !== W) v = lowerAxisResample(g, v, w, W, false, [H, w, -1]);
  return lowerReshape(g, v, [H * W, -1]);
}

/** The transpose of `lowerUpsample`: [H·W, D′] on the first level's grid → [h·w, D′] (how ∂loss/∂φ reaches a level). */
function lowerUpsampleAdjoint(g: OnnxGraphBuilder, value: string, level: EmbeddingLevel, grid: EmbeddingLevel): string {
  const { height: h, width: w } = level,
    { height: H, width: W } = grid;
  let v = value;
  if (w !== W) v = lowerAxisResample(g, v, w, W, true, [H, W, -1]);
  if (h !== H) v = lowerAxisResample(g, v, h, H, true, [H, -1]);
  return lowerReshape(g, v, [h * w, -1]);
}

/** The coordinate term coords · W[D:] + b, [HW, D′]: the same for every image of a batch. */
export function lowerCoordinateTerm(
  g: OnnxGraphBuilder,
  coords: string,
  weights: { weightC: string; bias: string },
): string {
  return g.node('Gemm', [coords, weights.weightC, weights.bias])[0];
}

/**
 * φ [H·W, D′] of one image's pyramid (`xs[l]` = level l, [h·w, C_l]): each level times its rows of
 * W at its own size, upsampled, summed into the first level's Gemm as C with the coordinate term
 * (`lowerCoordinateTerm`). Equal to `lowerCoordConvForward` on the upsampled embedding
 * (`expandPyramid`) up to rounding. Any per-level right factors work the same way: with
 * W_l · Cᵀ in place of W_l the result is φ · Cᵀ (see the cfa package's pyramid search).
 */
export function lowerPyramidForward(
  g: OnnxGraphBuilder,
  xs: string[],
  weights: Pick<PyramidWeights, 'levels'>,
  coordTerm: string,
  levels: EmbeddingLevel[],
): string {
  let c = coordTerm;
  for (let l = 1; l < levels.length; l++) {
    const product = g.node('MatMul', [xs[l], weights.levels[l]])[0];
    c = g.node('Add', [c, lowerUpsample(g, product, levels[l], levels[0])])[0];
  }
  return g.node('Gemm', [xs[0], weights.levels[0], c])[0];
}

/**
 * ∂W (each level's rows, then the coordinate rows, [D + c, D′] as one Concat) and ∂b of one image
 * from its pyramid and G = ∂loss/∂φ [H·W, D′]: ∂W_l = X_lᵀ · Uᵀ G, the products at the level's size.
 * `accumulate` adds this image's ∂W_l, ∂W_c, ∂b to a previous image's (Gemm's C), so a batch
 * concatenates once.
 */
export function lowerPyramidWeightGradient(
  g: OnnxGraphBuilder,
  xs: string[],
  grad: string,
  coordsAndOne: string,
  levels: EmbeddingLevel[],
  accumulate?: PyramidGradient,
): PyramidGradient {
  const gemmT = (a: string, b: string, c: string | undefined) =>
    g.node('Gemm', c ? [a, b, c] : [a, b], { transA: attr.int(1) })[0];
  const perLevel = levels.map((level, l) => {
    const back = l === 0 ? grad : lowerUpsampleAdjoint(g, grad, level, levels[0]);
    return gemmT(xs[l], back, accumulate?.perLevel[l]);
  });
  return { perLevel, coordsAndBias: gemmT(coordsAndOne, grad, accumulate?.coordsAndBias) };
}

/** Per-level ∂W blocks and the [c + 1, D′] coordinate-rows-and-bias block of `lowerPyramidWeightGradient`. */
export interface PyramidGradient {
  perLevel: string[];
  coordsAndBias: string;
}

/** [HW, c + 1]: the coordinate channels and a ones column (its product with G is ∂b). */
export function coordinatesAndOneInitializer(
  g: OnnxGraphBuilder,
  height: number,
  width: number,
  coordChannels: number,
): string {
  const coords = coordinateChannels(height, width, coordChannels === 3);
  const out = new Float32Array(height * width * (coordChannels + 1));
  for (let p = 0; p < height * width; p++) {
    for (let k = 0; k < coordChannels; k++) out[p * (coordChannels + 1) + k] = coords[p * coordChannels + k];
    out[p * (coordChannels + 1) + coordChannels] = 1;
  }
  return g.initializer(g.fresh('coords_and_one'), out, [height * width, coordChannels + 1]);
}

/** [∂W [D + c, D′], ∂b [D′]] from an accumulated `PyramidGradient`. */
export function finishPyramidGradient(
  g: OnnxGraphBuilder,
  total: PyramidGradient,
  coordChannels: number,
): [string, string] {
  const [coordRows, biasRow] = g.node(
    'Split',
    [total.coordsAndBias, g.ints('split', [coordChannels, 1])],
    { axis: attr.int(0) },
    2,
  );
  const gradWeight = g.node('Concat', [...total.perLevel, coordRows], { axis: attr.int(0) })[0];
  const gradBias = g.node('Reshape', [biasRow, g.ints('shape', [-1])])[0];
  return [gradWeight, gradBias];
}
