/**
 * The nearest-centre search as ONNX graph pieces: the blocked search runners use them, and so can
 * a fused graph that finds the neighbours of φ without bringing φ back to JavaScript.
 *
 * @example
 * ```ts
 * const g = new OnnxGraphBuilder('nearest');
 * const [values, indices] = lowerNearest(g, g.input('q', ['p', 448]), g.input('ct', [448, 'm']), g.input('cn', ['m']), 6);
 * ```
 */
import { attr, type OnnxGraphBuilder } from '@cfa/tensor-runtime';

/** ‖q‖² + ‖c‖² − 2 q·c for q [P, D′], ct = Cᵀ [D′, M], cn = ‖c‖² [M]: [P, M]. */
export function lowerSquaredDistances(g: OnnxGraphBuilder, q: string, ct: string, cn: string): string {
  const qn = g.node('ReduceSum', [g.node('Mul', [q, q])[0], g.ints('axes', [-1])], { keepdims: attr.int(1) })[0];
  const twoQc = g.node('Mul', [g.node('MatMul', [q, ct])[0], g.initializer(g.fresh('two'), new Float32Array([2]), [])])[0];
  return g.node('Sub', [g.node('Add', [qn, cn])[0], twoQc])[0];
}

/** The k smallest squared distances and their centre indices (int64), ascending: [values, indices]. */
export function lowerNearest(g: OnnxGraphBuilder, q: string, ct: string, cn: string, k: number): [string, string] {
  const [values, indices] = g.node('TopK', [lowerSquaredDistances(g, q, ct, cn), g.ints('k', [k])], { axis: attr.int(-1), largest: attr.int(0), sorted: attr.int(1) }, 2);
  return [values, indices];
}
