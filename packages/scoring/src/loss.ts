/**
 * CFA's coupled-hypersphere loss (paper §3.1, Eq. 1–3, with the reference code's 1/ν; anomalib
 * `cfa/loss.py`), with squared Euclidean distances D to the K + J nearest centres of every patch
 * feature, sorted:
 *
 *   L_att = mean over t and the K nearest of max(0, D(φ(p_t), c_k) − r²)
 *   L_rep = mean over t and the J hard negatives of max(0, r² − D(φ(p_t), c_j) − α)
 *   loss  = (L_att + L_rep) / ν
 *
 * Only the K + J gathered distances carry gradient (see docs/method.md, "The loss"): the
 * nearest indices are found without gradient, and these functions recompute just those distances.
 * `cfaLossAndGradient` computes it with its closed-form gradient on typed arrays (both engines'
 * training steps; `lowerCfaLossGradient` is the same as an ONNX graph piece); the specs check that
 * gradient against TensorFlow.js autograd of the same loss (`cfaLossTf`, @cfa/scoring/testing).
 *
 * @example
 * ```ts
 * const { loss, gradPhi, gradR } = cfaLossAndGradient({ phi, count: 3136, bank, indices, r: 1e-5, config: DEFAULT_LOSS_CONFIG });
 * ```
 */
import { z } from 'zod';
import { assert } from '@cfa/tensor-runtime';
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
   * Which of the K+J nearest are the hard negatives: 'reference' = J+1 … K+J as the reference code
   * slices (default); 'paper' = K+1 … K+J. The same when K = J.
   */
  negatives: z.enum(['paper', 'reference']).default('reference'),
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

export interface LossSums {
  attSum: number;
  attActive: number;
  repSum: number;
  repActive: number;
}

/** For each of the `need` sorted neighbours: does it enter the attraction term, the repulsion term? */
export function neighbourRoles(config: LossConfig): { att: boolean; rep: boolean }[] {
  const [negStart, negEnd] = negativeColumns(config);
  return Array.from({ length: neighboursNeeded(config) }, (_, j) => ({
    att: config.terms !== 'none' && j < config.K,
    rep: config.terms === 'att+rep' && j >= negStart && j < negEnd,
  }));
}

/** Scales of an active attraction / repulsion term for a step over `count` patches, before 1/ν. */
export function termScales(count: number, config: LossConfig): { att: number; rep: number } {
  const repulsive = neighbourRoles(config).filter((role) => role.rep).length;
  return { att: 1 / (count * config.K), rep: repulsive > 0 ? 1 / (count * repulsive) : 0 };
}

/** The loss values and ∂loss/∂r from the summed hinge terms of a step over `count` patches. */
export function lossFromSums(
  sums: LossSums,
  count: number,
  r: number,
  config: LossConfig,
): LossValues & { gradR: number } {
  const scale = termScales(count, config);
  const lossAtt = (sums.attSum * scale.att) / config.nu;
  const lossRep = (sums.repSum * scale.rep) / config.nu;
  const gradR = (-2 * r * sums.attActive * scale.att + 2 * r * sums.repActive * scale.rep) / config.nu;
  return { loss: lossAtt + lossRep, lossAtt, lossRep, gradR };
}

export interface HingeWeights extends LossValues {
  /** w_tj: ∂loss/∂D_tj for each of the `need` sorted neighbours of patch t, [P, need]. */
  weights: Float32Array;
  /** Σ_j w_tj per patch, [P]: ∂loss/∂φ_t = 2 (Σ_j w_tj φ_t − Σ_j w_tj c_j). */
  weightSums: Float32Array;
  /** ∂loss/∂r. */
  gradR: number;
}

/**
 * The loss from the squared distances D [P, need] to the sorted nearest centres, and the weight
 * of every distance in the gradient.
 */
export function hingeWeights(distances: ArrayLike<number>, count: number, r: number, config: LossConfig): HingeWeights {
  const need = neighboursNeeded(config);
  assert(
    distances.length === count * need,
    'cfaLoss',
    () => `distances must hold [${count}, ${need}] values, got ${distances.length}`,
  );
  const weights = new Float32Array(count * need);
  const weightSums = new Float32Array(count);
  const sums: LossSums = { attSum: 0, attActive: 0, repSum: 0, repActive: 0 };
  if (config.terms === 'none') return { ...lossFromSums(sums, count, r, config), weights, weightSums };
  const r2 = r * r;
  const roles = neighbourRoles(config);
  const scale = termScales(count, config);
  for (let t = 0; t < count; t++) {
    let sum = 0;
    for (let j = 0; j < need; j++) {
      const d = distances[t * need + j];
      let w = 0;
      if (roles[j].att && d - r2 > 0) {
        sums.attSum += d - r2;
        sums.attActive++;
        w += scale.att;
      }
      if (roles[j].rep && r2 - d - config.alpha > 0) {
        sums.repSum += r2 - d - config.alpha;
        sums.repActive++;
        w -= scale.rep;
      }
      weights[t * need + j] = w / config.nu;
      sum += w / config.nu;
    }
    weightSums[t] = sum;
  }
  return { ...lossFromSums(sums, count, r, config), weights, weightSums };
}

/** a·b over n values from the given offsets; four accumulators break the add-latency chain. */
function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[ao + i] * b[bo + i];
    s1 += a[ao + i + 1] * b[bo + i + 1];
    s2 += a[ao + i + 2] * b[bo + i + 2];
    s3 += a[ao + i + 3] * b[bo + i + 3];
  }
  for (; i < n; i++) s0 += a[ao + i] * b[bo + i];
  return s0 + s1 + (s2 + s3);
}

/** ‖c‖² of every centre in float64, once per bank (the float32 ones would reintroduce cancellation). */
const exactNorms = new WeakMap<MemoryBank, Float64Array>();
function centreNorms(bank: MemoryBank): Float64Array {
  let norms = exactNorms.get(bank);
  if (!norms) {
    norms = new Float64Array(bank.size);
    for (let m = 0; m < bank.size; m++)
      norms[m] = dot(bank.centres, m * bank.dim, bank.centres, m * bank.dim, bank.dim);
    exactNorms.set(bank, norms);
  }
  return norms;
}

/** Squared distances [P, need] from each φ_t to its `need` nearest centres, in float64. */
function gatheredDistances(
  phi: Float32Array,
  count: number,
  bank: MemoryBank,
  indices: Int32Array,
  k: number,
  need: number,
): Float64Array {
  const { centres, dim } = bank;
  const norms = centreNorms(bank);
  const out = new Float64Array(count * need);
  for (let t = 0; t < count; t++) {
    // ‖φ‖² + ‖c‖² − 2 φ·c with every term in float64: one dot product per neighbour instead of a
    // difference pass, and no cancellation (products of float32 values are exact in float64)
    const phiNorm = dot(phi, t * dim, phi, t * dim, dim);
    for (let j = 0; j < need; j++) {
      const m = indices[t * k + j];
      out[t * need + j] = phiNorm + norms[m] - 2 * dot(phi, t * dim, centres, m * dim, dim);
    }
  }
  return out;
}

export function cfaLossAndGradient(params: LossParams): LossAndGradient {
  const { phi, count, bank, indices, k, r, config } = params;
  const dim = bank.dim;
  const need = neighboursNeeded(config);
  assert(phi.length === count * dim, 'cfaLoss', () => `phi must hold [${count}, ${dim}] values, got ${phi.length}`);
  assert(
    k >= need && indices.length === count * k,
    'cfaLoss',
    () => `indices must be [${count}, ≥${need}], got ${indices.length} values with k = ${k}`,
  );
  const gradPhi = new Float32Array(count * dim);
  if (config.terms === 'none') return { loss: 0, lossAtt: 0, lossRep: 0, gradPhi, gradR: 0 };
  const h = hingeWeights(gatheredDistances(phi, count, bank, indices, k, need), count, r, config);
  const { centres } = bank;
  for (let t = 0; t < count; t++) {
    const f = t * dim;
    const s = 2 * h.weightSums[t];
    if (s !== 0) for (let i = 0; i < dim; i++) gradPhi[f + i] = s * phi[f + i];
    for (let j = 0; j < need; j++) {
      const w = 2 * h.weights[t * need + j];
      if (w === 0) continue;
      const c = indices[t * k + j] * dim;
      for (let i = 0; i < dim; i++) gradPhi[f + i] -= w * centres[c + i];
    }
  }
  return { loss: h.loss, lossAtt: h.lossAtt, lossRep: h.lossRep, gradPhi, gradR: h.gradR };
}
