/**
 * FYD's two training objectives (docs/methods/fyd.md), each as a value and its closed-form
 * gradient on typed arrays (the gradient is checked against PyTorch's autograd of the same
 * statement, tools/torch-reference/fyd_reference.py):
 *
 * Image-level coarse alignment — the aligned images of a batch should agree pixel by pixel
 * (L_ICA as the public description of FYD writes it: Σ over image pairs and positions of
 * ‖h(A)_ij − h(B)_ij‖₂; here the mean, with ε under the root so that equal pixels have a gradient):
 *
 *   L_pair = 1/(pairs·P) Σ_{a<b} Σ_q √(‖A_q − B_q‖² + ε)
 *
 * Fine alignment — non-contrastive: at every position q the predictor's output of image a should
 * point where the (stop-gradient) feature of every other image b of the batch points
 * (SimSiam's negative cosine, taken over all corresponding locations of a batch):
 *
 *   L_dense = −1/(B(B−1)·P) Σ_q Σ_a Σ_{b≠a} p̂_aq · ẑ_bq        (x̂ = x / ‖x‖; z carries no gradient)
 *
 * @example
 * ```ts
 * const { loss, gradAligned } = pairwiseAlignmentLoss({ aligned, batch: 8, positions: 4096, channels: 3 });
 * const { loss: l, gradP } = denseSimilarityLoss({ p, z, batch: 8, positions: 3136, dim: 100 });
 * ```
 */
import { assert } from '@cfa/tensor-runtime';

/** ε under the root of the pixel distance. */
export const PAIR_DISTANCE_EPSILON = 1e-6;

export interface PairwiseAlignmentParams {
  /** [batch, positions, channels]: the batch's images after alignment. */
  aligned: Float32Array;
  batch: number;
  positions: number;
  channels: number;
  epsilon?: number;
}

export function pairwiseAlignmentLoss(params: PairwiseAlignmentParams): { loss: number; gradAligned: Float32Array } {
  const { aligned, batch, positions, channels, epsilon = PAIR_DISTANCE_EPSILON } = params;
  assert(batch >= 2, 'pairwiseAlignmentLoss', () => `needs at least 2 images to compare, got ${batch}`);
  assert(
    aligned.length === batch * positions * channels,
    'pairwiseAlignmentLoss',
    () =>
      `aligned holds ${aligned.length} values, [${batch}, ${positions}, ${channels}] needs ${batch * positions * channels}`,
  );
  const pairs = (batch * (batch - 1)) / 2;
  const scale = 1 / (pairs * positions);
  const grad = new Float32Array(aligned.length);
  let loss = 0;
  for (let a = 0; a < batch; a++)
    for (let b = a + 1; b < batch; b++)
      for (let q = 0; q < positions; q++) {
        const ia = (a * positions + q) * channels,
          ib = (b * positions + q) * channels;
        let sq = 0;
        for (let c = 0; c < channels; c++) sq += (aligned[ia + c] - aligned[ib + c]) ** 2;
        const norm = Math.sqrt(sq + epsilon);
        loss += norm;
        for (let c = 0; c < channels; c++) {
          const g = (scale * (aligned[ia + c] - aligned[ib + c])) / norm;
          grad[ia + c] += g;
          grad[ib + c] -= g;
        }
      }
  return { loss: loss * scale, gradAligned: grad };
}

export interface DenseSimilarityParams {
  /** The predictor's output [batch, positions, dim]. */
  p: Float32Array;
  /** The target features [batch, positions, dim] (no gradient flows into them). */
  z: Float32Array;
  batch: number;
  positions: number;
  dim: number;
}

export function denseSimilarityLoss(params: DenseSimilarityParams): { loss: number; gradP: Float32Array } {
  const { p, z, batch, positions, dim } = params;
  assert(
    batch >= 2,
    'denseSimilarityLoss',
    () => `needs at least 2 images per batch (corresponding locations of others), got ${batch}`,
  );
  const n = batch * positions * dim;
  assert(
    p.length === n && z.length === n,
    'denseSimilarityLoss',
    () => `p and z must be [${batch}, ${positions}, ${dim}] (${n} values), got ${p.length} and ${z.length}`,
  );
  const c = 1 / (batch * (batch - 1) * positions);
  const gradP = new Float32Array(n);
  const zHat = new Float64Array(n);
  for (let r = 0; r < batch * positions; r++) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += z[r * dim + k] ** 2;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let k = 0; k < dim; k++) zHat[r * dim + k] = z[r * dim + k] * inv;
  }
  const others = new Float64Array(dim);
  let loss = 0;
  for (let q = 0; q < positions; q++) {
    // S_q = Σ_b ẑ_bq; image a's target is S_q − ẑ_aq
    const sum = new Float64Array(dim);
    for (let b = 0; b < batch; b++) for (let k = 0; k < dim; k++) sum[k] += zHat[(b * positions + q) * dim + k];
    for (let a = 0; a < batch; a++) {
      const r = (a * positions + q) * dim;
      let pp = 0;
      for (let k = 0; k < dim; k++) pp += p[r + k] ** 2;
      const pNorm = Math.max(Math.sqrt(pp), 1e-12);
      let dot = 0;
      for (let k = 0; k < dim; k++) {
        others[k] = sum[k] - zHat[r + k];
        dot += (p[r + k] / pNorm) * others[k];
      }
      loss -= c * dot;
      // ∂(−c p̂·v)/∂p = −c (v − (p̂·v) p̂) / ‖p‖
      for (let k = 0; k < dim; k++) gradP[r + k] = (-c * (others[k] - dot * (p[r + k] / pNorm))) / pNorm;
    }
  }
  return { loss, gradP };
}
