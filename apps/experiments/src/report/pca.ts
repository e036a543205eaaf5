/**
 * Principal axes of a set of vectors, for 2-D pictures of a feature space (paper Fig. 3): power
 * iteration on the centred rows, each axis kept orthogonal to the ones before it. It never forms
 * the D×D covariance (1792² for WRN50-2): one iteration is two passes over the rows. Signs are
 * fixed (largest component positive), so the same input always gives the same picture.
 *
 * @example
 * ```ts
 * const basis = principalAxes({ rows: centres, count: 3136, dim: 448 });
 * const xy = projectRows({ rows: phi, count: 100, dim: 448, basis }); // [100, 2]
 * ```
 */
import { createRng } from '@cfa/tensor-runtime';

export interface PrincipalAxes {
  mean: Float64Array;
  /** Unit axes, each [dim]. */
  axes: Float64Array[];
}

export interface PrincipalAxesParams {
  /** [count, dim] row-major. */
  rows: Float32Array;
  count: number;
  dim: number;
  /** Axes wanted; default 2. */
  k?: number;
  /** Upper bound on iterations per axis; default 300. */
  maxIterations?: number;
}

export function principalAxes({ rows, count, dim, k = 2, maxIterations = 300 }: PrincipalAxesParams): PrincipalAxes {
  if (rows.length !== count * dim)
    throw new Error(`principalAxes: rows must hold [${count}, ${dim}] = ${count * dim} values, got ${rows.length}`);
  if (count < 2) throw new Error(`principalAxes: need at least 2 rows, got ${count}`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) mean[j] += rows[i * dim + j] / count;
  const rng = createRng(0).fork('pca');
  const axes: Float64Array[] = [];
  const t = new Float64Array(count);
  const orthonormalise = (v: Float64Array) => {
    for (const a of axes) {
      let dot = 0;
      for (let j = 0; j < dim; j++) dot += v[j] * a[j];
      for (let j = 0; j < dim; j++) v[j] -= dot * a[j];
    }
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += v[j] * v[j];
    norm = Math.sqrt(norm) || 1;
    for (let j = 0; j < dim; j++) v[j] /= norm;
  };
  for (let axis = 0; axis < Math.min(k, dim); axis++) {
    let v = Float64Array.from({ length: dim }, () => rng.normal());
    orthonormalise(v);
    for (let it = 0; it < maxIterations; it++) {
      // w = Xcᵀ (Xc v): first the scores t = Xc v, then their weighted sum of rows
      for (let i = 0; i < count; i++) {
        let s = 0;
        for (let j = 0; j < dim; j++) s += (rows[i * dim + j] - mean[j]) * v[j];
        t[i] = s;
      }
      const w = new Float64Array(dim);
      for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) w[j] += t[i] * (rows[i * dim + j] - mean[j]);
      orthonormalise(w);
      let change = 0;
      for (let j = 0; j < dim; j++) change = Math.max(change, Math.abs(w[j] - v[j]));
      v = w;
      if (change < 1e-7) break;
    }
    let largest = 0;
    for (let j = 0; j < dim; j++) if (Math.abs(v[j]) > Math.abs(v[largest])) largest = j;
    if (v[largest] < 0) for (let j = 0; j < dim; j++) v[j] = -v[j];
    axes.push(v);
  }
  return { mean, axes };
}

/** Rows [count, dim] → their coordinates on the axes, [count, k] row-major. */
export function projectRows({
  rows,
  count,
  dim,
  basis,
}: {
  rows: Float32Array;
  count: number;
  dim: number;
  basis: PrincipalAxes;
}): Float32Array {
  if (rows.length !== count * dim)
    throw new Error(`projectRows: rows must hold [${count}, ${dim}] = ${count * dim} values, got ${rows.length}`);
  const k = basis.axes.length;
  const out = new Float32Array(count * k);
  for (let i = 0; i < count; i++)
    for (let a = 0; a < k; a++) {
      let s = 0;
      const axis = basis.axes[a];
      for (let j = 0; j < dim; j++) s += (rows[i * dim + j] - basis.mean[j]) * axis[j];
      out[i * k + a] = s;
    }
  return out;
}
