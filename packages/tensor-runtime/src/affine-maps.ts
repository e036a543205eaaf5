/**
 * Algebra of the 2×3 affine maps that `affineGrid` reads (θ: (x, y) of the input = θ · (x, y, 1)
 * of the output, normalised coordinates): composition and inverse, on typed arrays and as ONNX
 * nodes. A chain of warps (FYD: the image-level pose, then a feature map's pose) relates the last
 * grid to the first input by the composition; sampling with the inverse brings a map made on the
 * last grid back onto the input's (FYD's anomaly map onto the image the masks are drawn on).
 *
 * @example
 * ```ts
 * const back = invertAffine(composeAffine(imagePose, featurePose, n), n); // [n, 2, 3]
 * const grid = affineGrid({ theta: back, count: n, height: 56, width: 56 });
 * ```
 */
import { attr, type OnnxGraphBuilder } from './onnx-graph';
import { assert } from './shape';

function checkCount(op: string, count: number, arrays: [string, Float32Array][]) {
  assert(Number.isInteger(count) && count > 0, op, () => `count must be a positive integer, got ${count}`);
  for (const [name, a] of arrays)
    assert(a.length === count * 6, op, () => `${name} holds ${a.length} values, [${count}, 2, 3] needs ${count * 6}`);
}

/**
 * [N, 2, 3]: per image, the map `outer ∘ inner` — first `inner`, then `outer`. Sampling with
 * `inner` a map that was itself sampled with `outer` reads the first input at outer(inner(p)).
 */
export function composeAffine(outer: Float32Array, inner: Float32Array, count: number): Float32Array {
  checkCount('composeAffine', count, [
    ['outer', outer],
    ['inner', inner],
  ]);
  const out = new Float32Array(count * 6);
  for (let n = 0; n < count; n++) {
    const [a, b, c, d, e, f] = outer.subarray(n * 6, n * 6 + 6);
    const [p, q, r, s, t, u] = inner.subarray(n * 6, n * 6 + 6);
    out.set([a * p + b * s, a * q + b * t, a * r + b * u + c, d * p + e * s, d * q + e * t, d * r + e * u + f], n * 6);
  }
  return out;
}

/** [N, 2, 3]: per image, the inverse map [A⁻¹ | −A⁻¹ t] of θ = [A | t]; a singular A is an error. */
export function invertAffine(theta: Float32Array, count: number): Float32Array {
  checkCount('invertAffine', count, [['theta', theta]]);
  const out = new Float32Array(count * 6);
  for (let n = 0; n < count; n++) {
    const [a, b, tx, c, d, ty] = theta.subarray(n * 6, n * 6 + 6);
    const det = a * d - b * c;
    assert(Math.abs(det) > 1e-12, 'invertAffine', () => `image ${n}'s map is singular (det ${det})`);
    const [ia, ib, ic, id] = [d / det, -b / det, -c / det, a / det];
    out.set([ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty)], n * 6);
  }
  return out;
}

/** θ [N, 2, 3] → [N, 3, 3] with the row (0, 0, 1): composition becomes a MatMul. */
function lowerHomogeneous(g: OnnxGraphBuilder, theta: string, name: string): string {
  const batch = g.node('Slice', [g.node('Shape', [theta])[0], g.ints('start', [0]), g.ints('end', [1])])[0];
  const rowShape = g.node('Concat', [batch, g.ints('row_dims', [1, 3])], { axis: attr.int(0) })[0];
  const row = g.node('Expand', [
    g.initializer(g.fresh(`${name}.last_row`), new Float32Array([0, 0, 1]), [1, 1, 3]),
    rowShape,
  ])[0];
  return g.node('Concat', [theta, row], { axis: attr.int(1) })[0];
}

/** ONNX: `composeAffine` on values [n, 2, 3]. */
export function lowerComposeAffine(g: OnnxGraphBuilder, outer: string, inner: string, name: string): string {
  return g.node('MatMul', [outer, lowerHomogeneous(g, inner, name)])[0]; // [n, 2, 3]
}

/** ONNX: `invertAffine` on a value [n, 2, 3] (no singularity check: a pose's A is k·R, never singular). */
export function lowerInvertAffine(g: OnnxGraphBuilder, theta: string): string {
  const flat = g.node('Reshape', [theta, g.ints('shape', [-1, 6])])[0];
  const [a, b, tx, c, d, ty] = g.node('Split', [flat], { axis: attr.int(1) }, 6); // each [n, 1]
  const mul = (x: string, y: string) => g.node('Mul', [x, y])[0];
  const det = g.node('Sub', [mul(a, d), mul(b, c)])[0];
  const over = (x: string) => g.node('Div', [x, det])[0];
  const [ia, ib, ic, id] = [over(d), over(g.node('Neg', [b])[0]), over(g.node('Neg', [c])[0]), over(a)];
  const shift = (p: string, q: string) => g.node('Neg', [g.node('Add', [mul(p, tx), mul(q, ty)])[0]])[0];
  const out = g.node('Concat', [ia, ib, shift(ia, ib), ic, id, shift(ic, id)], { axis: attr.int(1) })[0];
  return g.node('Reshape', [out, g.ints('shape', [-1, 2, 3])])[0];
}
