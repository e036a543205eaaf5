/**
 * The squared distances to neighbours already found, recomputed directly as Σ (q − c)² in float64.
 * The search ranks with the expanded form ‖q‖² + ‖c‖² − 2 q·c (one matrix product), whose float32
 * value loses digits when the distance is small against the norms — for PatchCore's features
 * (‖f‖² in the hundreds, nearest d² of a few units) about 1e-4 of the score. Where the distance
 * itself is the result (PatchCore's patch score), the k found are recomputed here: k·D more
 * multiply-adds per query, next to the search's M·D.
 *
 * @example
 * ```ts
 * const { indices } = await search.nearest(queries, 784, bank, 1);
 * const distances = exactSquaredDistances({ queries, count: 784, bank, indices, k: 1 }); // [784, 1]
 * ```
 */
import { assert } from '@cfa/tensor-runtime';
import type { MemoryBank } from './memory-bank';

export interface ExactSquaredDistanceParams {
  /** [count, bank.dim]. */
  queries: Float32Array;
  count: number;
  bank: MemoryBank;
  /** Centre indices [count, k] (from `NearestSearch.nearest`). */
  indices: Int32Array;
  k: number;
}

/** Σ (q − c)² for each query and each of its k centres, [count, k], in the order of `indices`. */
export function exactSquaredDistances({ queries, count, bank, indices, k }: ExactSquaredDistanceParams): Float32Array {
  const { dim, centres, size } = bank;
  assert(
    queries.length === count * dim && indices.length === count * k,
    'exactSquaredDistances',
    () =>
      `queries must hold [${count}, ${dim}] and indices [${count}, ${k}] values, got ${queries.length} and ${indices.length}`,
  );
  const out = new Float32Array(count * k);
  for (let p = 0; p < count; p++) {
    const q = p * dim;
    for (let j = 0; j < k; j++) {
      const m = indices[p * k + j];
      assert(m >= 0 && m < size, 'exactSquaredDistances', () => `index ${m} is outside the bank of ${size}`);
      const c = m * dim;
      let sum = 0;
      for (let d = 0; d < dim; d++) {
        const diff = queries[q + d] - centres[c + d];
        sum += diff * diff;
      }
      out[p * k + j] = sum;
    }
  }
  return out;
}
