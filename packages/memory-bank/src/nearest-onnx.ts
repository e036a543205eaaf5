/**
 * The nearest-centre search as ONNX graph pieces: the blocked search runners use them, and so can
 * a fused graph that finds the neighbours of φ without bringing φ back to JavaScript.
 *
 * Ranking needs only ‖c‖² − 2 q·c (‖q‖² is the same for every centre of a row), which is one Gemm
 * (alpha = −2, C = ‖c‖²) with no further pass over the [P, M] matrix; ‖q‖² is added to the k
 * values that TopK keeps, not to all M.
 *
 * @example
 * ```ts
 * const g = new OnnxGraphBuilder('nearest');
 * const [values, indices] = lowerNearest(g, g.input('q', ['p', 448]), g.input('ct', [448, 'm']), g.input('cn', ['m']), 6);
 * ```
 */
import { attr, type OnnxGraphBuilder } from '@cfa/tensor-runtime';

/** ‖c‖² − 2 q·c for q [P, D′] (2-D), ct = Cᵀ [D′, M], cn = ‖c‖² [M]: [P, M]. */
function rankingScores(g: OnnxGraphBuilder, q: string, ct: string, cn: string): string {
  return g.node('Gemm', [q, ct, cn], { alpha: attr.float(-2), beta: attr.float(1) })[0];
}

/** ‖q‖² per row, [P, 1]. */
export function lowerRowSquaredNorms(g: OnnxGraphBuilder, q: string): string {
  return g.node('ReduceSum', [g.node('Mul', [q, q])[0], g.ints('axes', [-1])], { keepdims: attr.int(1) })[0];
}

/** ‖q‖² + ‖c‖² − 2 q·c: [P, M]. */
export function lowerSquaredDistances(g: OnnxGraphBuilder, q: string, ct: string, cn: string): string {
  return g.node('Add', [rankingScores(g, q, ct, cn), lowerRowSquaredNorms(g, q)])[0];
}

/** The k smallest squared distances and their centre indices (int64), ascending: [values, indices]. */
export function lowerNearest(g: OnnxGraphBuilder, q: string, ct: string, cn: string, k: number): [string, string] {
  const [scores, indices] = g.node(
    'TopK',
    [rankingScores(g, q, ct, cn), g.ints('k', [k])],
    { axis: attr.int(-1), largest: attr.int(0), sorted: attr.int(1) },
    2,
  );
  return [g.node('Add', [scores, lowerRowSquaredNorms(g, q)])[0], indices];
}
