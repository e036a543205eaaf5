/**
 * Seeded k-means: k-means++ seeding, then Lloyd iterations until no assignment changes, the
 * centres move less than `tol` (relative to the data variance, as scikit-learn measures it) or
 * `maxIter` is reached. The reference code calls scikit-learn's `KMeans(n_clusters=HW/γc,
 * max_iter=3000)`; we run one seeding (not scikit-learn's n_init restarts), so results are a pure
 * function of the seed. The assignment step is the engine's nearest search (a matrix product),
 * which is where the time goes.
 *
 * @example
 * ```ts
 * const { centres, iterations } = await kmeans({ points, count: 3136, dim: 448, k: 784, seed: 0, search });
 * ```
 */
import { createRng } from '@cfa/tensor-runtime';
import { createMemoryBank } from './memory-bank';
import type { NearestSearch } from './nearest-search';

export interface KMeansParams {
  /** [count, dim] row-major. */
  points: Float32Array;
  count: number;
  dim: number;
  k: number;
  seed: number;
  search: NearestSearch;
  maxIter?: number;
  /** Stop when Σ‖Δc‖² ≤ tol · mean per-feature variance · dim (scikit-learn's criterion). */
  tol?: number;
}

export interface KMeansResult {
  /** [k, dim]. */
  centres: Float32Array;
  /** Cluster of each point, [count]. */
  assignment: Int32Array;
  iterations: number;
  inertia: number;
}

/** k-means++: first centre uniform, then each next one with probability ∝ D(x)². */
export function kmeansPlusPlus(
  points: Float32Array,
  count: number,
  dim: number,
  k: number,
  seed: number,
): Float32Array {
  if (k > count) throw new Error(`kmeans: k = ${k} exceeds the number of points (${count})`);
  const rng = createRng(seed).fork('kmeans++');
  const centres = new Float32Array(k * dim);
  const closest = new Float64Array(count).fill(Infinity);
  let chosen = rng.int(count);
  for (let c = 0; c < k; c++) {
    centres.set(points.subarray(chosen * dim, (chosen + 1) * dim), c * dim);
    if (c === k - 1) break;
    let total = 0;
    for (let i = 0; i < count; i++) {
      let d = 0;
      for (let j = 0, pi = i * dim, ci = chosen * dim; j < dim; j++) {
        const diff = points[pi + j] - points[ci + j];
        d += diff * diff;
      }
      if (d < closest[i]) closest[i] = d;
      total += closest[i];
    }
    if (total === 0) {
      // every remaining point coincides with a centre: take the next points in order
      chosen = (chosen + 1) % count;
      continue;
    }
    let r = rng.next() * total;
    chosen = count - 1;
    for (let i = 0; i < count; i++) {
      r -= closest[i];
      if (r < 0) {
        chosen = i;
        break;
      }
    }
  }
  return centres;
}

export async function kmeans(params: KMeansParams): Promise<KMeansResult> {
  const { points, count, dim, k, seed, search, maxIter = 300, tol = 1e-4 } = params;
  if (points.length !== count * dim)
    throw new Error(`kmeans: points must hold [${count}, ${dim}] values, got ${points.length}`);
  let centres = kmeansPlusPlus(points, count, dim, k, seed);
  // scikit-learn scales tol by the mean variance of the features
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) mean[j] += points[i * dim + j] / count;
  let variance = 0;
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) variance += (points[i * dim + j] - mean[j]) ** 2;
  const threshold = tol * (variance / (count * dim)) * dim;

  let assignment: Int32Array = new Int32Array(count).fill(-1);
  let inertia = 0;
  let iterations = 0;
  for (let iter = 0; iter < maxIter; iter++) {
    iterations = iter + 1;
    const { distances, indices } = await search.nearest(points, count, createMemoryBank(centres, k, dim), 1);
    const changed = indices.some((c, i) => c !== assignment[i]);
    assignment = indices;
    inertia = distances.reduce((s, d) => s + Math.max(0, d), 0);
    const sums = new Float64Array(k * dim);
    const sizes = new Int32Array(k);
    for (let i = 0; i < count; i++) {
      const c = assignment[i];
      sizes[c]++;
      for (let j = 0; j < dim; j++) sums[c * dim + j] += points[i * dim + j];
    }
    const next = new Float32Array(k * dim);
    let shift = 0;
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < dim; j++) {
        // an empty cluster keeps its centre (rare after k-means++)
        next[c * dim + j] = sizes[c] ? sums[c * dim + j] / sizes[c] : centres[c * dim + j];
        shift += (next[c * dim + j] - centres[c * dim + j]) ** 2;
      }
    }
    centres = next;
    if (!changed || shift <= threshold) break;
  }
  return { centres, assignment, iterations, inertia };
}
