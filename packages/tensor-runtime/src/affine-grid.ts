/**
 * The sampling grid of a 2-D affine map, PyTorch's `F.affine_grid` (Jaderberg et al. 2015,
 * "Spatial Transformer Networks", §3.2, eq. 1): output position (i, j) of an H×W output has
 * normalised coordinates (x_j, y_i) and samples the input at θ · (x_j, y_i, 1)ᵀ, θ a 2×3 matrix per
 * image. With `alignCorners: false` (PyTorch's default) x_j = (2j + 1)/W − 1, with `true`
 * x_j = 2j/(W − 1) − 1. On typed arrays (forward and ∂θ), TensorFlow.js, and ONNX (a MatMul with
 * the constant base grid: ONNX's own AffineGrid needs opset 20, which ONNX Runtime's CPU provider
 * and Debian's onnx do not all have). The grid feeds `gridSample` (grid-sample.ts).
 *
 * @example
 * ```ts
 * const grid = affineGrid({ theta, count: 2, height: 56, width: 56 }); // [2, 56, 56, 2]
 * const dTheta = affineGridGradient({ gradGrid, count: 2, height: 56, width: 56 }); // [2, 2, 3]
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { attr, type OnnxGraphBuilder } from './onnx-graph';
import { assert } from './shape';

export interface AffineGridParams {
  /** [N, 2, 3] row-major: (x, y) of the input = θ · (x, y, 1) of the output. */
  theta: Float32Array;
  count: number;
  height: number;
  width: number;
  /** PyTorch's `align_corners` (default false). */
  alignCorners?: boolean;
}

/** Normalised coordinates of the output positions along one axis. */
function axis(size: number, alignCorners: boolean): Float64Array {
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++)
    out[i] = alignCorners ? (size > 1 ? (2 * i) / (size - 1) - 1 : 0) : (2 * i + 1) / size - 1;
  return out;
}

/** The base grid [H·W, 3]: (x_j, y_i, 1) per output position, row-major. */
export function affineBaseGrid(height: number, width: number, alignCorners = false): Float32Array {
  const xs = axis(width, alignCorners),
    ys = axis(height, alignCorners);
  const out = new Float32Array(height * width * 3);
  for (let i = 0; i < height; i++) for (let j = 0; j < width; j++) out.set([xs[j], ys[i], 1], (i * width + j) * 3);
  return out;
}

function check(op: string, count: number, height: number, width: number, arrays: [string, Float32Array, number][]) {
  assert(
    [count, height, width].every((d) => Number.isInteger(d) && d > 0),
    op,
    () => `count, height and width must be positive integers, got ${count}, ${height}, ${width}`,
  );
  for (const [name, a, n] of arrays)
    assert(a.length === n, op, () => `${name} holds ${a.length} values, expected ${n}`);
}

/** The grid [N, H, W, 2]. */
export function affineGrid({ theta, count, height, width, alignCorners = false }: AffineGridParams): Float32Array {
  check('affineGrid', count, height, width, [['theta', theta, count * 6]]);
  const base = affineBaseGrid(height, width, alignCorners);
  const hw = height * width;
  const out = new Float32Array(count * hw * 2);
  for (let n = 0; n < count; n++) {
    const t = theta.subarray(n * 6, n * 6 + 6);
    for (let p = 0; p < hw; p++) {
      const x = base[3 * p],
        y = base[3 * p + 1];
      out[(n * hw + p) * 2] = t[0] * x + t[1] * y + t[2];
      out[(n * hw + p) * 2 + 1] = t[3] * x + t[4] * y + t[5];
    }
  }
  return out;
}

/** ∂/∂θ [N, 2, 3] of Σ gradGrid · affineGrid(θ): Σ over positions of gradGrid_r · (x, y, 1)_c. */
export function affineGridGradient(params: {
  gradGrid: Float32Array;
  count: number;
  height: number;
  width: number;
  alignCorners?: boolean;
}): Float32Array {
  const { gradGrid, count, height, width, alignCorners = false } = params;
  const hw = height * width;
  check('affineGridGradient', count, height, width, [['gradGrid', gradGrid, count * hw * 2]]);
  const base = affineBaseGrid(height, width, alignCorners);
  const out = new Float32Array(count * 6);
  for (let n = 0; n < count; n++) {
    const acc = new Float64Array(6);
    for (let p = 0; p < hw; p++) {
      const gx = gradGrid[(n * hw + p) * 2],
        gy = gradGrid[(n * hw + p) * 2 + 1];
      for (let c = 0; c < 3; c++) {
        acc[c] += gx * base[3 * p + c];
        acc[3 + c] += gy * base[3 * p + c];
      }
    }
    out.set(acc, n * 6);
  }
  return out;
}

/** TensorFlow.js: θ [N, 2, 3] → grid [N, H, W, 2]. */
export function affineGridTf(theta: tf.Tensor3D, height: number, width: number, alignCorners = false): tf.Tensor4D {
  const n = theta.shape[0];
  assert(
    theta.shape[1] === 2 && theta.shape[2] === 3,
    'affineGridTf',
    () => `theta must be [N, 2, 3], got [${theta.shape}]`,
  );
  return tf.tidy(() => {
    const base = tf.tensor2d(affineBaseGrid(height, width, alignCorners), [height * width, 3]);
    // [N, HW, 3] · [N, 3, 2]
    const grid = tf.matMul(tf.tile(tf.expandDims(base, 0), [n, 1, 1]), theta, false, true);
    return tf.reshape(grid, [n, height, width, 2]);
  });
}

/**
 * ONNX: θ [N, 2, 3] (a value name) → grid [N, H, W, 2], as base [H·W, 3] · θᵀ; `name` prefixes the
 * base grid's initializer.
 */
export function lowerAffineGrid(
  g: OnnxGraphBuilder,
  theta: string,
  options: { height: number; width: number; alignCorners?: boolean; name: string },
): string {
  const { height, width, alignCorners = false, name } = options;
  const base = g.initializer(`${name}.base_grid`, affineBaseGrid(height, width, alignCorners), [height * width, 3]);
  const thetaT = g.node('Transpose', [theta], { perm: attr.ints([0, 2, 1]) })[0];
  const grid = g.node('MatMul', [base, thetaT])[0]; // [N, HW, 2]
  return g.node('Reshape', [grid, g.ints('shape', [-1, height, width, 2])])[0];
}
