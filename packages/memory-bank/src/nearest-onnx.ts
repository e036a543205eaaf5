/**
 * The nearest-centre search as ONNX graph pieces: the blocked search runners use them, and so can
 * a fused graph that finds the neighbours of φ without bringing φ back to JavaScript. The bank
 * enters a graph as Cᵀ and ‖c‖², fed (`memoryBankInputs` + `memoryBankFeeds`) or stored
 * (`memoryBankConstants`).
 *
 * Ranking needs only ‖c‖² − 2 q·c (‖q‖² is the same for every centre of a row), which is one Gemm
 * (alpha = −2, C = ‖c‖²) with no further pass over the [P, M] matrix; ‖q‖² is added to the k
 * values that TopK keeps, not to all M.
 *
 * @example
 * ```ts
 * const g = new OnnxGraphBuilder('nearest');
 * const { ct, cn } = memoryBankInputs(g, 448);
 * const [values, indices] = lowerNearest(g, g.input('q', ['p', 448]), ct, cn, 6); // feeds: { q, ...memoryBankFeeds(bank) }
 * ```
 */
import { attr, type OnnxGraphBuilder, type OrtFeed } from '@cfa/tensor-runtime';
import type { MemoryBank } from './memory-bank';

/** The memory bank in a graph: Cᵀ [D′, M] and ‖c‖² [M]. */
export interface MemoryBankGraph {
  ct: string;
  cn: string;
}

/** The bank as graph inputs `ct`, `cn` (any bank of dimension `dim`, any size). */
export function memoryBankInputs(g: OnnxGraphBuilder, dim: number): MemoryBankGraph {
  return { ct: g.input('ct', [dim, 'm']), cn: g.input('cn', ['m']) };
}

/** The feeds of `memoryBankInputs`. */
export function memoryBankFeeds(bank: MemoryBank): Record<keyof MemoryBankGraph, OrtFeed> {
  return {
    ct: { data: bank.transposed, dims: [bank.dim, bank.size] },
    cn: { data: bank.squaredNorms, dims: [bank.size] },
  };
}

/**
 * A fixed bank stored in the graph (ONNX Runtime folds what depends only on it once); `name`
 * prefixes the initializers (`<name>.bank_t`, `<name>.bank_sq_norms`), so that two members of one
 * exported graph keep their own banks.
 */
export function memoryBankConstants(g: OnnxGraphBuilder, bank: MemoryBank, name?: string): MemoryBankGraph {
  return {
    ct: g.initializer(name ? `${name}.bank_t` : 'ct', bank.transposed, [bank.dim, bank.size]),
    cn: g.initializer(name ? `${name}.bank_sq_norms` : 'cn', bank.squaredNorms, [bank.size]),
  };
}

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

/**
 * `exactSquaredDistances` as a graph piece: Σ (q − c)² of each query q [P, D′] to its k centres
 * `indices` [P, k] (int64, from `lowerNearest`), gathered from Cᵀ [D′, M] (no second copy of the
 * bank): [P, k].
 */
export function lowerExactSquaredDistances(g: OnnxGraphBuilder, q: string, ct: string, indices: string): string {
  const centres = g.node('Gather', [ct, indices], { axis: attr.int(1) })[0]; // [D′, P, k]
  const queries = g.node('Unsqueeze', [g.node('Transpose', [q])[0], g.ints('axes', [2])])[0]; // [D′, P, 1]
  const diff = g.node('Sub', [centres, queries])[0];
  return g.node('ReduceSum', [g.node('Mul', [diff, diff])[0], g.ints('axes', [0])], { keepdims: attr.int(0) })[0];
}
