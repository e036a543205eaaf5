/**
 * CRAD's continuous memory (Lee et al. 2024, "Continuous Memory Representation for Anomaly
 * Detection", arXiv 2402.18293 §3.2–3.3; reference code `models/reconstructions/crad.py`, the
 * `query` parameters): normal features are not kept as a discrete set searched by nearest neighbour
 * but as two learned grids that are read at continuous coordinates by bilinear interpolation —
 *
 * - the local grid [1, C, r, r] (r = `local_resol`, 8): every feature position reads one C-vector
 *   at its own predicted coordinate;
 * - the global grid [1, C·h·w, g, g] (g = `global_resol`, 4): every image reads one C·h·w-vector at
 *   one coordinate predicted from its pooled features, a whole [C, h, w] feature map.
 *
 * Both are sampled as the reference code calls `F.grid_sample` (bilinear, `align_corners=False`,
 * zero padding): a coordinate u ∈ [−1, 1] lies at p = ((u + 1)·r − 1)/2 on the grid's pixel axis,
 * and the value there is Σⱼ G[j]·tent(p_y − j_y)·tent(p_x − j_x) with tent(d) = max(0, 1 − |d|) —
 * the two neighbours of each axis weighted by distance, a neighbour outside the grid contributing
 * zero (zero padding). Written that way the sample is a dense product W·Gᵀ of the coordinates'
 * tent weights W [n, r²] with the grid [C, r²]: no gather, and its gradient with respect to the
 * grid (Wᵀ·∂) and to the coordinates (through the tents) is what TensorFlow.js's autograd derives
 * from Abs, Relu and MatMul — kernels every tfjs backend has, WebAssembly included (its
 * GatherV2 gradient, UnsortedSegmentSum, is missing there). The same formula lowers to ONNX opset 13
 * (Sub, Abs, Relu, Mul, MatMul) for inference; GridSample would need opset 16.
 *
 * Parameters use the reference module's names and layouts (`query.0`, `query.1`), so its state
 * dict loads unchanged.
 *
 * @example
 * ```ts
 * const grids = initContinuousMemory({ channels: 216, height: 28, width: 28, localResolution: 8, globalResolution: 4, seed: 0 });
 * const q = tf.tidy(() => continuousMemoryTf({ local: tf.tensor(...), global: tf.tensor(...), localCoords, globalCoords }));
 * // q: [B, 28, 28, 432], the global grid's sample then the local grid's, as the reference concatenates them
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { attr, assertShape, createRng, type OnnxGraphBuilder } from '@cfa/tensor-runtime';

/** Parameter names in the reference module (`CRAD.query`, an nn.ParameterList). */
export const CONTINUOUS_MEMORY_NAMES = { local: 'query.0', global: 'query.1' } as const;

export interface ContinuousMemoryShape {
  /** C: channels of the features the memory reconstructs. */
  channels: number;
  /** h × w: the feature grid (the global grid holds one whole map per cell). */
  height: number;
  width: number;
  /** r: the local grid's side (reference `local_resol`, 8). */
  localResolution: number;
  /** g: the global grid's side (reference `global_resol`, 4). */
  globalResolution: number;
}

export interface ContinuousMemoryTensor {
  shape: number[];
  data: Float32Array;
}

/** Torch shapes of the two grids: local [1, C, r, r], global [1, C·h·w, g, g]. */
export function continuousMemoryShapes(s: ContinuousMemoryShape): Record<'local' | 'global', number[]> {
  return {
    local: [1, s.channels, s.localResolution, s.localResolution],
    global: [1, s.channels * s.height * s.width, s.globalResolution, s.globalResolution],
  };
}

/**
 * The grids as the reference constructor draws them: `nn.init.xavier_normal_` on each 4-D tensor,
 * N(0, 2/(fan_in + fan_out)) with fan_in = size(1)·r², fan_out = size(0)·r² (torch's
 * `_calculate_fan_in_and_fan_out`), seeded.
 */
export function initContinuousMemory(
  s: ContinuousMemoryShape & { seed: number },
): Record<'local' | 'global', ContinuousMemoryTensor> {
  const shapes = continuousMemoryShapes(s);
  const draw = (shape: number[], label: string): ContinuousMemoryTensor => {
    const [out, inp, kh, kw] = shape;
    const std = Math.sqrt(2 / ((inp + out) * kh * kw));
    const rng = createRng(s.seed).fork(`continuous-memory:${label}`);
    const n = shape.reduce((a, b) => a * b, 1);
    return { shape, data: Float32Array.from({ length: n }, () => std * rng.normal()) };
  };
  return { local: draw(shapes.local, 'local'), global: draw(shapes.global, 'global') };
}

/**
 * Bilinear tent weights of normalised coordinates (x, y) ∈ [−1, 1] on an r × r grid, as
 * `grid_sample(align_corners=False)` weighs the four neighbours: [n, r²], column y·r + x.
 * Rows of coordinates outside the grid (by more than half a cell) are all zero.
 *
 * @param coords [n, 2] float32: x (width axis) then y, as `grid_sample`'s last axis.
 */
export function gridWeightsTf(coords: tf.Tensor2D, resolution: number): tf.Tensor2D {
  assertShape('gridWeightsTf', 'coords', coords.shape, [coords.shape[0], 2]);
  return tf.tidy(() => {
    const cells = tf.reshape(tf.range(0, resolution, 1, 'float32'), [1, resolution]);
    const [x, y] = tf.split(coords, 2, 1);
    // unnormalise (align_corners=False): p = ((u + 1)·r − 1) / 2
    const tent = (u: tf.Tensor) =>
      tf.relu(tf.sub(1, tf.abs(tf.sub(tf.div(tf.sub(tf.mul(tf.add(u, 1), resolution), 1), 2), cells))));
    const n = coords.shape[0];
    return tf.reshape(tf.mul(tf.reshape(tent(y), [n, resolution, 1]), tf.reshape(tent(x), [n, 1, resolution])), [
      n,
      resolution * resolution,
    ]) as tf.Tensor2D;
  });
}

/**
 * One grid [1, D, r, r] sampled at n coordinates: [n, D] (D = C for the local grid, C·h·w for the
 * global one). Differentiable with respect to the grid and the coordinates.
 */
export function sampleGridTf(grid: tf.Tensor4D, coords: tf.Tensor2D): tf.Tensor2D {
  const [, depth, r] = grid.shape;
  assertShape('sampleGridTf', 'grid', grid.shape, [1, depth, r, r]);
  return tf.tidy(() => tf.matMul(gridWeightsTf(coords, r), tf.reshape(grid, [depth, r * r]), false, true));
}

export interface ContinuousMemoryTfParams {
  /** Local grid [1, C, r, r]. */
  local: tf.Tensor4D;
  /** Global grid [1, C·h·w, g, g]. */
  global: tf.Tensor4D;
  /** Per-position coordinates [B, h, w, 2] (x, y), the reference's `coord` (after any training noise). */
  localCoords: tf.Tensor4D;
  /** Per-image coordinates [B, 2], the reference's `coord_`. */
  globalCoords: tf.Tensor2D;
}

/**
 * What the memory gives for a batch: [B, h, w, 2C] NHWC — channels [0, C) the global grid's map,
 * [C, 2C) the local grid's per-position vectors, the order of the reference's `torch.cat`. The
 * global sample's C·h·w values are laid out as the reference's `view(B, -1, H, W)` reads them:
 * channel-major.
 */
export function continuousMemoryTf({
  local,
  global,
  localCoords,
  globalCoords,
}: ContinuousMemoryTfParams): tf.Tensor4D {
  const [batch, height, width] = localCoords.shape;
  const channels = local.shape[1];
  assertShape('continuousMemoryTf', 'localCoords', localCoords.shape, [batch, height, width, 2]);
  assertShape('continuousMemoryTf', 'globalCoords', globalCoords.shape, [batch, 2]);
  assertShape('continuousMemoryTf', 'global', global.shape, [
    1,
    channels * height * width,
    global.shape[2],
    global.shape[2],
  ]);
  return tf.tidy(() => {
    const globalMap = tf.transpose(
      tf.reshape(sampleGridTf(global, globalCoords), [batch, channels, height, width]),
      [0, 2, 3, 1],
    );
    const localRows = sampleGridTf(local, tf.reshape(localCoords, [batch * height * width, 2]) as tf.Tensor2D);
    const localMap = tf.reshape(localRows, [batch, height, width, channels]);
    return tf.concat([globalMap, localMap], 3) as tf.Tensor4D;
  });
}

/**
 * One grid sampled in a graph: `gridT` = the grid as a [r², D] initializer (`gridTransposed`),
 * coords [n, 2] → [n, D].
 */
export function lowerSampleGrid(g: OnnxGraphBuilder, gridT: string, coords: string, resolution: number): string {
  return g.node('MatMul', [lowerTents(g, coords, resolution).weights, gridT])[0];
}

/** A torch-layout grid [1, D, r, r] as the [r², D] matrix `lowerSampleGrid` multiplies by. */
export function gridTransposed(grid: ContinuousMemoryTensor): Float32Array {
  const [, depth, r] = grid.shape;
  const cells = r * r;
  const out = new Float32Array(cells * depth);
  for (let d = 0; d < depth; d++) for (let j = 0; j < cells; j++) out[j * depth + d] = grid.data[d * cells + j];
  return out;
}

export interface LowerContinuousMemoryOptions {
  local: ContinuousMemoryTensor;
  global: ContinuousMemoryTensor;
  /** Per-position coordinates [n, 2, h, w] (NCHW, x then y), the output of the local predictor. */
  localCoords: string;
  /** Per-image coordinates [n, 2]. */
  globalCoords: string;
  height: number;
  width: number;
  /** Prefix of the grids' initializer names. */
  name: string;
}

/** `continuousMemoryTf` in a graph, NCHW: [n, 2C, h, w] (global channels first). */
export function lowerContinuousMemory(g: OnnxGraphBuilder, o: LowerContinuousMemoryOptions): string {
  const channels = o.local.shape[1];
  const [r, gr] = [o.local.shape[2], o.global.shape[2]];
  const localT = g.initializer(`${o.name}.${CONTINUOUS_MEMORY_NAMES.local}.t`, gridTransposed(o.local), [
    r * r,
    channels,
  ]);
  const globalT = g.initializer(`${o.name}.${CONTINUOUS_MEMORY_NAMES.global}.t`, gridTransposed(o.global), [
    gr * gr,
    channels * o.height * o.width,
  ]);
  // per image one C·h·w vector, read channel-major as [C, h, w]
  const globalMap = g.node('Reshape', [
    lowerSampleGrid(g, globalT, o.globalCoords, gr),
    g.ints('shape', [-1, channels, o.height, o.width]),
  ])[0];
  const coords = g.node('Reshape', [
    g.node('Transpose', [o.localCoords], { perm: attr.ints([0, 2, 3, 1]) })[0],
    g.ints('shape', [-1, 2]),
  ])[0];
  const localRows = lowerSampleGrid(g, localT, coords, r); // [n·h·w, C]
  const localMap = g.node(
    'Transpose',
    [g.node('Reshape', [localRows, g.ints('shape', [-1, o.height, o.width, channels])])[0]],
    { perm: attr.ints([0, 3, 1, 2]) },
  )[0];
  return g.node('Concat', [globalMap, localMap], { axis: attr.int(1) })[0];
}

/** The tent weights of `gridWeightsTf` in a graph (coords [m, 2] → [m, r²]), with what their gradient needs. */
interface TentGraph {
  /** [m, r²]. */
  weights: string;
  /** [m, r] per axis: tent values and p − j. */
  tx: string;
  ty: string;
  dx: string;
  dy: string;
}

function lowerTents(g: OnnxGraphBuilder, coords: string, resolution: number): TentGraph {
  const cells = g.initializer(
    g.fresh('grid_cells'),
    Float32Array.from({ length: resolution }, (_, i) => i),
    [1, resolution],
  );
  const one = g.scalar('one', 1);
  const axis = (k: number) => {
    const u = g.node('Slice', [coords, g.ints('start', [k]), g.ints('end', [k + 1]), g.ints('axes', [1])])[0];
    const p = g.node('Add', [
      g.node('Mul', [u, g.scalar('half_r', resolution / 2)])[0],
      g.scalar('offset', (resolution - 1) / 2),
    ])[0];
    const d = g.node('Sub', [p, cells])[0];
    return { d, t: g.node('Relu', [g.node('Sub', [one, g.node('Abs', [d])[0]])[0]])[0] };
  };
  const x = axis(0),
    y = axis(1);
  const weights = g.node('Reshape', [
    g.node('Mul', [
      g.node('Unsqueeze', [y.t, g.ints('axes', [2])])[0],
      g.node('Unsqueeze', [x.t, g.ints('axes', [1])])[0],
    ])[0],
    g.ints('shape', [-1, resolution * resolution]),
  ])[0];
  return { weights, tx: x.t, ty: y.t, dx: x.d, dy: y.d };
}

/**
 * d/d(coords) [m, 2] from d/d(weights) [m, r²]: through the outer product of the two axes' tents,
 * tent′(d) = −sign(d) where |d| < 1, and dp/du = r/2.
 */
function lowerTentsBackward(g: OnnxGraphBuilder, t: TentGraph, gradWeights: string, resolution: number): string {
  const grid = g.node('Reshape', [gradWeights, g.ints('shape', [-1, resolution, resolution])])[0]; // [m, y, x]
  const gradTy = g.node(
    'ReduceSum',
    [g.node('Mul', [grid, g.node('Unsqueeze', [t.tx, g.ints('axes', [1])])[0]])[0], g.ints('axes', [2])],
    { keepdims: attr.int(0) },
  )[0];
  const gradTx = g.node(
    'ReduceSum',
    [g.node('Mul', [grid, g.node('Unsqueeze', [t.ty, g.ints('axes', [2])])[0]])[0], g.ints('axes', [1])],
    { keepdims: attr.int(0) },
  )[0];
  const half = g.scalar('half_r', resolution / 2);
  const along = (gradTent: string, tent: string, d: string) =>
    g.node('Mul', [
      g.node(
        'ReduceSum',
        [
          g.node('Mul', [
            gradTent,
            g.node('Mul', [g.node('Neg', [g.node('Sign', [d])[0]])[0], g.node('Sign', [tent])[0]])[0],
          ])[0],
          g.ints('axes', [1]),
        ],
        { keepdims: attr.int(1) },
      )[0],
      half,
    ])[0];
  return g.node('Concat', [along(gradTx, t.tx, t.dx), along(gradTy, t.ty, t.dy)], { axis: attr.int(1) })[0];
}

export interface ContinuousMemoryTrainGraph {
  /** The memory read as rows [N, 2C] (N = n·h·w; global channels first). */
  rows: string;
  /** Gradients of the two grids and of both coordinate sets, from d/d(rows). */
  backward(gradRows: string): { local: string; global: string; localCoords: string; globalCoords: string };
}

/**
 * `continuousMemoryTf` in a training graph, with its backward pass: the grids (torch layouts) and
 * the coordinates (local as rows [N, 2], global [n, 2]) are graph values; ∂grid = Wᵀ·∂Q and
 * ∂W = ∂Q·grid, then the tents' gradient.
 */
export function lowerContinuousMemoryTrain(
  g: OnnxGraphBuilder,
  o: {
    localGrid: string;
    globalGrid: string;
    localCoords: string;
    globalCoords: string;
  } & ContinuousMemoryShape,
): ContinuousMemoryTrainGraph {
  const { channels: c, height: h, width: w, localResolution: r, globalResolution: gr } = o;
  const chw = c * h * w;
  const localMatrix = g.node('Reshape', [o.localGrid, g.ints('shape', [c, r * r])])[0];
  const globalMatrix = g.node('Reshape', [o.globalGrid, g.ints('shape', [chw, gr * gr])])[0];
  const localTents = lowerTents(g, o.localCoords, r);
  const globalTents = lowerTents(g, o.globalCoords, gr);
  const localRows = g.node('Gemm', [localTents.weights, localMatrix], { transB: attr.int(1) })[0];
  const globalSample = g.node('Gemm', [globalTents.weights, globalMatrix], { transB: attr.int(1) })[0]; // [n, C·h·w]
  // channel-major per image → rows [n·h·w, C]
  const toRows = (v: string) =>
    g.node('Reshape', [
      g.node('Transpose', [g.node('Reshape', [v, g.ints('shape', [-1, c, h, w])])[0]], {
        perm: attr.ints([0, 2, 3, 1]),
      })[0],
      g.ints('shape', [-1, c]),
    ])[0];
  const fromRows = (v: string) =>
    g.node('Reshape', [
      g.node('Transpose', [g.node('Reshape', [v, g.ints('shape', [-1, h, w, c])])[0]], {
        perm: attr.ints([0, 3, 1, 2]),
      })[0],
      g.ints('shape', [-1, chw]),
    ])[0];
  return {
    rows: g.node('Concat', [toRows(globalSample), localRows], { axis: attr.int(1) })[0],
    backward(gradRows) {
      const columns = (from: number, to: number) =>
        g.node('Slice', [gradRows, g.ints('start', [from]), g.ints('end', [to]), g.ints('axes', [1])])[0];
      const gradGlobal = fromRows(columns(0, c)); // [n, C·h·w]
      const gradLocal = columns(c, 2 * c); // [N, C]
      const gradGrid = (gradSample: string, weights: string, shape: number[]) =>
        g.node('Reshape', [
          g.node('Gemm', [gradSample, weights], { transA: attr.int(1) })[0],
          g.ints('shape', shape),
        ])[0];
      return {
        local: gradGrid(gradLocal, localTents.weights, [1, c, r, r]),
        global: gradGrid(gradGlobal, globalTents.weights, [1, chw, gr, gr]),
        localCoords: lowerTentsBackward(g, localTents, g.node('MatMul', [gradLocal, localMatrix])[0], r),
        globalCoords: lowerTentsBackward(g, globalTents, g.node('MatMul', [gradGlobal, globalMatrix])[0], gr),
      };
    },
  };
}
