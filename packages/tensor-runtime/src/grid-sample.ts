/**
 * Bilinear grid sampling, PyTorch's `F.grid_sample(mode='bilinear')` (Jaderberg et al. 2015,
 * "Spatial Transformer Networks", §3.3, eq. 5; aten/src/ATen/native/GridSampler.cpp), on every
 * engine: plain typed arrays (forward and both gradients), TensorFlow.js (forward), and ONNX's
 * `GridSample` (opset 16) for graphs. One definition of the sampling for every caller: FYD's
 * spatial transformers warp images and feature maps with it, CRAD samples its continuous grids.
 *
 * Conventions (PyTorch's): `grid[n, i, j] = (x, y)` in [-1, 1], x along the width; with
 * `alignCorners: false` (the default) -1 and 1 are the outer edges of the corner pixels,
 * ix = ((x + 1)·W − 1) / 2; with `true` they are the corner pixels' centres, ix = (x + 1)(W − 1) / 2.
 * Padding 'zeros' reads 0 outside the input; 'border' clamps the coordinate into it first (its
 * gradient is then 0 along the clamped axis, as PyTorch's `clip_coordinates_set_grad`).
 * Tensors here are NHWC (the ONNX lowering is NCHW, as ONNX's op).
 *
 * @example
 * ```ts
 * const out = gridSample({ input, inputShape: [1, 4, 4, 3], grid, gridShape: [1, 2, 2] }); // [1, 2, 2, 3]
 * const { gradGrid } = gridSampleGradient({ input, inputShape: [1, 4, 4, 3], grid, gridShape: [1, 2, 2], gradOutput: ones });
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { attr, type OnnxGraphBuilder } from './onnx-graph';
import { assert, assertShape } from './shape';

export interface GridSampleOptions {
  /** PyTorch's `align_corners` (default false, its default). */
  alignCorners?: boolean;
  /** What is read outside the input: 'zeros' (default) or 'border' (the clamped coordinate). */
  padding?: 'zeros' | 'border';
}

export interface GridSampleParams extends GridSampleOptions {
  /** [N, H, W, C] float32, NHWC. */
  input: Float32Array;
  inputShape: readonly [number, number, number, number];
  /** [N, Ho, Wo, 2] float32: (x, y) per output position, in [-1, 1] inside the input. */
  grid: Float32Array;
  /** [N, Ho, Wo]. */
  gridShape: readonly [number, number, number];
}

function checkParams(op: string, p: GridSampleParams): void {
  const [n, h, w, c] = p.inputShape;
  const [gn, ho, wo] = p.gridShape;
  assert(
    [n, h, w, c, ho, wo].every((d) => Number.isInteger(d) && d > 0),
    op,
    () => `shapes must be positive integers, got input [${p.inputShape.join(', ')}], grid [${p.gridShape.join(', ')}]`,
  );
  assert(gn === n, op, () => `grid has ${gn} images, input ${n}`);
  assert(
    p.input.length === n * h * w * c,
    op,
    () => `input holds ${p.input.length} values, [${p.inputShape.join(', ')}] needs ${n * h * w * c}`,
  );
  assert(
    p.grid.length === n * ho * wo * 2,
    op,
    () => `grid holds ${p.grid.length} values, [${n}, ${ho}, ${wo}, 2] needs ${n * ho * wo * 2}`,
  );
}

/** Normalised coordinate → input pixel coordinate, and d(pixel)/d(normalised). */
function unnormalize(size: number, alignCorners: boolean): { scale: number; offset: number } {
  return alignCorners ? { scale: (size - 1) / 2, offset: (size - 1) / 2 } : { scale: size / 2, offset: (size - 1) / 2 };
}

/** One sample point: its four taps (flat pixel index or -1 outside) and the interpolation weights. */
interface Taps {
  /** Flat pixel index (y·W + x) of nw, ne, sw, se, or -1 when the tap is outside (zeros). */
  index: [number, number, number, number];
  /** Fractions along x and y (ix − x0, iy − y0). */
  tx: number;
  ty: number;
  /** Bilinear weights of nw, ne, sw, se. */
  weights: [number, number, number, number];
  /** d ix / d x and d iy / d y (0 along a clamped axis with 'border'). */
  dx: number;
  dy: number;
}

function taps(gx: number, gy: number, h: number, w: number, options: Required<GridSampleOptions>): Taps {
  const ux = unnormalize(w, options.alignCorners),
    uy = unnormalize(h, options.alignCorners);
  let ix = gx * ux.scale + ux.offset,
    iy = gy * uy.scale + uy.offset;
  let dx = ux.scale,
    dy = uy.scale;
  if (options.padding === 'border') {
    if (ix <= 0 || ix >= w - 1) dx = 0;
    if (iy <= 0 || iy >= h - 1) dy = 0;
    ix = Math.min(Math.max(ix, 0), w - 1);
    iy = Math.min(Math.max(iy, 0), h - 1);
  }
  const x0 = Math.floor(ix),
    y0 = Math.floor(iy);
  const at = (x: number, y: number) => (x >= 0 && x < w && y >= 0 && y < h ? y * w + x : -1);
  const tx = ix - x0,
    ty = iy - y0;
  return {
    index: [at(x0, y0), at(x0 + 1, y0), at(x0, y0 + 1), at(x0 + 1, y0 + 1)],
    tx,
    ty,
    weights: [(1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty],
    dx,
    dy,
  };
}

const withDefaults = (o: GridSampleOptions): Required<GridSampleOptions> => ({
  alignCorners: o.alignCorners ?? false,
  padding: o.padding ?? 'zeros',
});

/** The sampled values [N, Ho, Wo, C]. */
export function gridSample(params: GridSampleParams): Float32Array {
  checkParams('gridSample', params);
  const options = withDefaults(params);
  const { input, grid } = params;
  const [n, h, w, c] = params.inputShape;
  const [, ho, wo] = params.gridShape;
  const out = new Float32Array(n * ho * wo * c);
  for (let b = 0; b < n; b++) {
    const base = b * h * w;
    for (let p = 0; p < ho * wo; p++) {
      const q = b * ho * wo + p;
      const t = taps(grid[2 * q], grid[2 * q + 1], h, w, options);
      for (let k = 0; k < 4; k++) {
        if (t.index[k] < 0) continue;
        const src = (base + t.index[k]) * c;
        const wk = t.weights[k];
        for (let ch = 0; ch < c; ch++) out[q * c + ch] += wk * input[src + ch];
      }
    }
  }
  return out;
}

/**
 * The gradients of Σ gradOutput · gridSample(input, grid): with respect to the grid [N, Ho, Wo, 2]
 * always, and to the input [N, H, W, C] when `input: true` is asked for (what a learnt grid or a
 * learnt input needs; a spatial transformer over a frozen map needs only the grid's).
 */
export function gridSampleGradient(params: GridSampleParams & { gradOutput: Float32Array; wantInput?: boolean }): {
  gradGrid: Float32Array;
  gradInput?: Float32Array;
} {
  checkParams('gridSampleGradient', params);
  const options = withDefaults(params);
  const { input, grid, gradOutput } = params;
  const [n, h, w, c] = params.inputShape;
  const [, ho, wo] = params.gridShape;
  assert(
    gradOutput.length === n * ho * wo * c,
    'gridSampleGradient',
    () => `gradOutput holds ${gradOutput.length} values, [${n}, ${ho}, ${wo}, ${c}] needs ${n * ho * wo * c}`,
  );
  const gradGrid = new Float32Array(n * ho * wo * 2);
  const gradInput = params.wantInput ? new Float32Array(input.length) : undefined;
  const v = new Float64Array(4);
  for (let b = 0; b < n; b++) {
    const base = b * h * w;
    for (let p = 0; p < ho * wo; p++) {
      const q = b * ho * wo + p;
      const t = taps(grid[2 * q], grid[2 * q + 1], h, w, options);
      // v_k = Σ_c g_c · input[tap k, c]: the four corners seen through the output gradient
      v.fill(0);
      for (let k = 0; k < 4; k++) {
        if (t.index[k] < 0) continue;
        const src = (base + t.index[k]) * c;
        let s = 0;
        for (let ch = 0; ch < c; ch++) s += gradOutput[q * c + ch] * input[src + ch];
        v[k] = s;
        if (gradInput) {
          const wk = t.weights[k];
          for (let ch = 0; ch < c; ch++) gradInput[src + ch] += wk * gradOutput[q * c + ch];
        }
      }
      // ∂/∂ix of the bilinear weights: −(1−ty), (1−ty), −ty, ty; ∂/∂iy: −(1−tx), −tx, (1−tx), tx
      const dIx = (1 - t.ty) * (v[1] - v[0]) + t.ty * (v[3] - v[2]);
      const dIy = (1 - t.tx) * (v[2] - v[0]) + t.tx * (v[3] - v[1]);
      gradGrid[2 * q] = dIx * t.dx;
      gradGrid[2 * q + 1] = dIy * t.dy;
    }
  }
  return gradInput ? { gradGrid, gradInput } : { gradGrid };
}

/**
 * The same sampling on TensorFlow.js tensors (forward only): input [N, H, W, C], grid
 * [N, Ho, Wo, 2] → [N, Ho, Wo, C]. Four gathers weighted by the bilinear weights, a tap outside
 * the input weighted 0 ('zeros') or its coordinate clamped first ('border').
 */
export function gridSampleTf(input: tf.Tensor4D, grid: tf.Tensor4D, options: GridSampleOptions = {}): tf.Tensor4D {
  const [n, h, w, c] = input.shape;
  assertShape('gridSampleTf', 'grid', grid.shape, [n, null, null, 2]);
  const [, ho, wo] = grid.shape;
  const o = withDefaults(options);
  return tf.tidy(() => {
    const ux = unnormalize(w, o.alignCorners),
      uy = unnormalize(h, o.alignCorners);
    const [gx, gy] = tf.split(tf.reshape(grid, [n, ho * wo, 2]), 2, 2).map((t) => tf.reshape(t, [n, ho * wo]));
    let ix = tf.add(tf.mul(gx, ux.scale), ux.offset);
    let iy = tf.add(tf.mul(gy, uy.scale), uy.offset);
    if (o.padding === 'border') {
      ix = tf.clipByValue(ix, 0, w - 1);
      iy = tf.clipByValue(iy, 0, h - 1);
    }
    const x0 = tf.floor(ix),
      y0 = tf.floor(iy);
    const tx = tf.sub(ix, x0),
      ty = tf.sub(iy, y0);
    const flat = tf.reshape(input, [n * h * w, c]);
    const imageBase = tf.tensor2d(
      Int32Array.from({ length: n }, (_, b) => b * h * w),
      [n, 1],
      'int32',
    );
    const corner = (dx: number, dy: number, weight: tf.Tensor2D) => {
      const x = tf.add(x0, dx),
        y = tf.add(y0, dy);
      const inside = tf.logicalAnd(
        tf.logicalAnd(tf.greaterEqual(x, 0), tf.lessEqual(x, w - 1)),
        tf.logicalAnd(tf.greaterEqual(y, 0), tf.lessEqual(y, h - 1)),
      );
      const index = tf.add(
        imageBase,
        tf.cast(tf.add(tf.mul(tf.clipByValue(y, 0, h - 1), w), tf.clipByValue(x, 0, w - 1)), 'int32'),
      );
      const gathered = tf.gather(flat, tf.reshape(index, [-1]));
      const wk = tf.reshape(tf.where(inside, weight, tf.zerosLike(weight)), [-1, 1]);
      return tf.mul(gathered, wk);
    };
    const sx = tf.sub(1, tx),
      sy = tf.sub(1, ty);
    const sum = tf.addN([
      corner(0, 0, tf.mul(sx, sy)),
      corner(1, 0, tf.mul(tx, sy)),
      corner(0, 1, tf.mul(sx, ty)),
      corner(1, 1, tf.mul(tx, ty)),
    ]);
    return tf.reshape(sum, [n, ho, wo, c]);
  });
}

/**
 * ONNX `GridSample` (opset 16, which the builder then declares): `input` [N, C, H, W] (NCHW, as
 * ONNX's op), `grid` [N, Ho, Wo, 2] → [N, C, Ho, Wo].
 */
export function lowerGridSample(
  g: OnnxGraphBuilder,
  inputNchw: string,
  grid: string,
  options: GridSampleOptions = {},
): string {
  const o = withDefaults(options);
  return g.node('GridSample', [inputNchw, grid], {
    mode: attr.string('bilinear'),
    padding_mode: attr.string(o.padding),
    align_corners: attr.int(o.alignCorners ? 1 : 0),
  })[0];
}
