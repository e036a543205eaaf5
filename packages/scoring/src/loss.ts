/**
 * CFA's coupled-hypersphere loss (paper §3.3, Eq. 3–5; anomalib `cfa/loss.py`), with squared
 * Euclidean distances D to the K + J nearest centres of every patch feature, sorted:
 *
 *   L_att = mean over t and the K nearest of max(0, D(φ(p_t), c_k) − r²)
 *   L_rep = mean over t and the J hard negatives of max(0, r² − D(φ(p_t), c_j) − α)
 *   loss  = (L_att + L_rep) / ν
 *
 * Only the K + J gathered distances carry gradient (see cfa-spec.md, "Where the time goes"): the
 * nearest indices are found without gradient, and these functions recompute just those distances.
 * Two implementations, one definition: `cfaLossTf` (TensorFlow.js autograd) and
 * `cfaLossAndGradient` (closed-form gradient on typed arrays, for the ONNX Runtime path).
 *
 * @example
 * ```ts
 * const { loss, gradPhi, gradR } = cfaLossAndGradient({ phi, count: 3136, bank, indices, r: 1e-5, config: DEFAULT_LOSS_CONFIG });
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { assert, assertShape } from '@cfa/tensor-runtime';
import type { MemoryBank } from '@cfa/memory-bank';

export const LossTermsSchema = z.enum(['none', 'att', 'att+rep']);
export type LossTerms = z.infer<typeof LossTermsSchema>;

export const LossConfigSchema = z.strictObject({
  /** Loss terms (paper Table 5 ablation). 'none' trains nothing. */
  terms: LossTermsSchema.default('att+rep'),
  /** Nearest centres pulled in (attraction). */
  K: z.number().int().positive().default(3),
  /** Hard negatives pushed out (repulsion). */
  J: z.number().int().nonnegative().default(3),
  /** Repulsion margin α. */
  alpha: z.number().nonnegative().default(0.1),
  /** ν: the loss is divided by it (reference code 1e-3). */
  nu: z.number().positive().default(1e-3),
  /**
   * Which of the K+J nearest are the hard negatives: 'paper' = K+1 … K+J;
   * 'reference' = J+1 … K+J as the reference code slices (the same when K = J).
   */
  negatives: z.enum(['paper', 'reference']).default('paper'),
});
export type LossConfig = z.infer<typeof LossConfigSchema>;
export const DEFAULT_LOSS_CONFIG: LossConfig = LossConfigSchema.parse({});

/** Number of nearest centres the loss needs per patch. */
export function neighboursNeeded(config: LossConfig): number {
  return config.terms === 'att+rep' ? config.K + config.J : config.K;
}

/** Column range of the hard negatives among the K+J sorted neighbours. */
export function negativeColumns(config: LossConfig): [number, number] {
  const start = config.negatives === 'paper' ? config.K : config.J;
  return [start, config.K + config.J];
}

export interface LossValues {
  loss: number;
  lossAtt: number;
  lossRep: number;
}

export interface LossAndGradient extends LossValues {
  /** ∂loss/∂φ, [P, D′]. */
  gradPhi: Float32Array;
  /** ∂loss/∂r. */
  gradR: number;
}

export interface LossParams {
  /** φ of the patches, [P, D′]. */
  phi: Float32Array;
  count: number;
  bank: MemoryBank;
  /** Indices of the nearest centres, [P, k], ascending distance, k ≥ K (+ J with repulsion). */
  indices: Int32Array;
  /** Width of each row of `indices`. */
  k: number;
  r: number;
  config: LossConfig;
}

export function cfaLossAndGradient(params: LossParams): LossAndGradient {
  const { phi, count, bank, indices, k, r, config } = params;
  const dim = bank.dim;
  const need = neighboursNeeded(config);
  assert(phi.length === count * dim, 'cfaLoss', () => `phi must hold [${count}, ${dim}] values, got ${phi.length}`);
  assert(k >= need && indices.length === count * k, 'cfaLoss', () => `indices must be [${count}, ≥${need}], got ${indices.length} values with k = ${k}`);
  const gradPhi = new Float32Array(count * dim);
  if (config.terms === 'none') return { loss: 0, lossAtt: 0, lossRep: 0, gradPhi, gradR: 0 };
  const r2 = r * r;
  const [negStart, negEnd] = negativeColumns(config);
  const useRep = config.terms === 'att+rep' && negEnd > negStart;
  const attScale = 1 / (count * config.K);
  const repScale = useRep ? 1 / (count * (negEnd - negStart)) : 0;
  let att = 0, rep = 0, attActive = 0, repActive = 0;
  const g = new Float64Array(need);
  for (let t = 0; t < count; t++) {
    const f = t * dim;
    g.fill(0);
    for (let j = 0; j < need; j++) {
      const inAtt = j < config.K;
      const inRep = useRep && j >= negStart && j < negEnd;
      if (!inAtt && !inRep) continue;
      const c = indices[t * k + j] * dim;
      let d = 0;
      for (let i = 0; i < dim; i++) {
        const diff = phi[f + i] - bank.centres[c + i];
        d += diff * diff;
      }
      if (inAtt && d - r2 > 0) {
        att += d - r2;
        attActive++;
        g[j] += attScale;
      }
      if (inRep && r2 - d - config.alpha > 0) {
        rep += r2 - d - config.alpha;
        repActive++;
        g[j] -= repScale;
      }
    }
    // ∂D/∂φ = 2 (φ − c); scaled by 1/ν below
    for (let j = 0; j < need; j++) {
      if (g[j] === 0) continue;
      const c = indices[t * k + j] * dim;
      const s = (2 * g[j]) / config.nu;
      for (let i = 0; i < dim; i++) gradPhi[f + i] += s * (phi[f + i] - bank.centres[c + i]);
    }
  }
  const lossAtt = (att * attScale) / config.nu;
  const lossRep = (rep * repScale) / config.nu;
  // ∂/∂r: each active attraction term contributes −2r, each active repulsion term +2r
  const gradR = ((-2 * r * attActive * attScale) + (2 * r * repActive * repScale)) / config.nu;
  return { loss: lossAtt + lossRep, lossAtt, lossRep, gradPhi, gradR };
}

export interface LossTfParams {
  /** φ [P, D′] (differentiable). */
  phi: tf.Tensor2D;
  /** The gathered nearest centres [P, k, D′], ascending distance. */
  gathered: tf.Tensor3D;
  /** Radius r, a scalar (differentiable). */
  r: tf.Scalar;
  config: LossConfig;
}

/** The same loss as TensorFlow.js ops, for autograd. Returns scalars; the caller disposes. */
export function cfaLossTf({ phi, gathered, r, config }: LossTfParams): { loss: tf.Scalar; lossAtt: tf.Scalar; lossRep: tf.Scalar } {
  const b = assertShape('cfaLossTf', 'phi', phi.shape, ['P', 'D']);
  assertShape('cfaLossTf', 'gathered', gathered.shape, ['P', 'k', 'D'], b);
  assert(b.k >= neighboursNeeded(config), 'cfaLossTf', () => `gathered has ${b.k} neighbours, the loss needs ${neighboursNeeded(config)}`);
  return tf.tidy(() => {
    if (config.terms === 'none') {
      const zero = tf.scalar(0);
      return { loss: zero, lossAtt: zero.clone(), lossRep: zero.clone() };
    }
    const d = tf.sum(tf.square(tf.sub(tf.expandDims(phi, 1), gathered)), 2); // [P, k]
    const r2 = tf.square(r);
    const lossAtt = tf.div(tf.mean(tf.relu(tf.sub(tf.slice(d, [0, 0], [-1, config.K]), r2))), config.nu) as tf.Scalar;
    const [negStart, negEnd] = negativeColumns(config);
    const lossRep = config.terms === 'att+rep' && negEnd > negStart
      ? tf.div(tf.mean(tf.relu(tf.sub(tf.sub(r2, tf.slice(d, [0, negStart], [-1, negEnd - negStart])), config.alpha))), config.nu) as tf.Scalar
      : tf.scalar(0);
    return { loss: tf.add(lossAtt, lossRep) as tf.Scalar, lossAtt, lossRep };
  });
}
