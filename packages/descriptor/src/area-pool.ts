/**
 * Area pooling of a map to a g×g grid, PyTorch's `F.adaptive_avg_pool2d` (output cell i averages
 * inputs [⌊i·L/g⌋, ⌈(i+1)·L/g⌉) along each axis; aten/src/ATen/native/AdaptiveAveragePooling.cpp),
 * as one [g, L] averaging matrix per axis: the pooling is separable, P_h · X · P_wᵀ per channel.
 * It is the input of a spatial transformer's localisation network (spatial-transformer.ts), which
 * needs a fixed-size summary of a map of any size.
 *
 * @example
 * ```ts
 * const pooled = areaPool({ x, shape: [2, 56, 56, 64], size: 4 }); // [2, 4, 4, 64]
 * ```
 */
import { assert, attr, type OnnxGraphBuilder } from '@cfa/tensor-runtime';

/** [out, in] row-major: row i averages inputs ⌊i·in/out⌋ … ⌈(i+1)·in/out⌉ − 1. */
export function areaPoolMatrix(inSize: number, outSize: number): Float32Array {
  assert(
    Number.isInteger(inSize) && Number.isInteger(outSize) && inSize > 0 && outSize > 0,
    'areaPoolMatrix',
    () => `sizes must be positive integers, got ${inSize} → ${outSize}`,
  );
  const m = new Float32Array(outSize * inSize);
  for (let i = 0; i < outSize; i++) {
    const start = Math.floor((i * inSize) / outSize);
    const end = Math.ceil(((i + 1) * inSize) / outSize);
    for (let j = start; j < end; j++) m[i * inSize + j] = 1 / (end - start);
  }
  return m;
}

export interface AreaPoolParams {
  /** [N, H, W, C] float32 (NHWC). */
  x: Float32Array;
  shape: readonly [number, number, number, number];
  /** g: the output is [N, g, g, C]. */
  size: number;
}

export function areaPool({ x, shape, size }: AreaPoolParams): Float32Array {
  const [n, h, w, c] = shape;
  assert(
    x.length === n * h * w * c,
    'areaPool',
    () => `x holds ${x.length} values, [${shape.join(', ')}] needs ${n * h * w * c}`,
  );
  const ph = areaPoolMatrix(h, size),
    pw = areaPoolMatrix(w, size);
  const out = new Float32Array(n * size * size * c);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < size; i++)
      for (let y = 0; y < h; y++) {
        const wy = ph[i * h + y];
        if (wy === 0) continue;
        for (let j = 0; j < size; j++)
          for (let xx = 0; xx < w; xx++) {
            const k = wy * pw[j * w + xx];
            if (k === 0) continue;
            const src = ((b * h + y) * w + xx) * c,
              dst = ((b * size + i) * size + j) * c;
            for (let ch = 0; ch < c; ch++) out[dst + ch] += k * x[src + ch];
          }
      }
  return out;
}

/** ONNX: x [n, C, H, W] (NCHW) → [n, C, g, g], as P_h · x · P_wᵀ; `name` prefixes the matrices. */
export function lowerAreaPool(
  g: OnnxGraphBuilder,
  xNchw: string,
  options: { height: number; width: number; size: number; name: string },
): string {
  const { height, width, size, name } = options;
  const pw = areaPoolMatrix(width, size);
  const pwT = new Float32Array(width * size);
  for (let j = 0; j < size; j++) for (let x = 0; x < width; x++) pwT[x * size + j] = pw[j * width + x];
  const cols = g.node('MatMul', [xNchw, g.initializer(`${name}.pool_cols`, pwT, [width, size])])[0];
  const rows = g.initializer(`${name}.pool_rows`, areaPoolMatrix(height, size), [size, height]);
  return g.node('MatMul', [rows, cols])[0];
}

/** ONNX: [n, C, g, g] → [n, g·g·C], flattened in NHWC order (as the typed-array pooling lays it out). */
export function lowerFlattenNhwc(g: OnnxGraphBuilder, xNchw: string, flat: number): string {
  const nhwc = g.node('Transpose', [xNchw], { perm: attr.ints([0, 2, 3, 1]) })[0];
  return g.node('Reshape', [nhwc, g.ints('shape', [-1, flat])])[0];
}
