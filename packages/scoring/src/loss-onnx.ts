/**
 * The CFA loss and ∂loss/∂φ as an ONNX graph piece, for a fused training step that keeps φ and its
 * gradient inside ONNX Runtime. The same definition as `cfaLossAndGradient` (see loss.ts): the
 * K + J distances are recomputed directly as ‖φ − c‖² over the gathered centres (no cancellation),
 * and ∂/∂φ Σ_j w_j ‖φ − c_j‖² = 2 Σ_j w_j (φ − c_j) reuses the same differences.
 *
 * The graph returns raw sums and active counts per piece so that a caller running one image at a
 * time can add them up; `lossFromSums` (loss.ts) turns the totals into the loss values and ∂loss/∂r.
 *
 * @example
 * ```ts
 * const loss = lowerCfaLossGradient(g, { phi, centres, indices, r2, attWeight, repWeight }, DEFAULT_LOSS_CONFIG);
 * g.output(loss.gradPhi, ['p', 448]);
 * ```
 */
import { attr, type OnnxGraphBuilder } from '@cfa/tensor-runtime';
import { type LossConfig, neighbourRoles } from './loss';

export interface LossGraphInputs {
  /** φ [P, D′]. */
  phi: string;
  /** C [M, D′]. */
  centres: string;
  /** Nearest centre indices [P, ≥need], int64, ascending distance. */
  indices: string;
  /** r², scalar. */
  r2: string;
  /** ∂loss/∂D of an active attraction term: 1 / (P_total · K · ν), scalar. */
  attWeight: string;
  /** ∂loss/∂D of an active repulsion term (negated): 1 / (P_total · J · ν), scalar. */
  repWeight: string;
}

export interface LossGraphOutputs {
  /** ∂loss/∂φ [P, D′]. */
  gradPhi: string;
  /** Σ max(0, D − r²) over the attraction terms, and how many were positive (scalars). */
  attSum: string;
  attActive: string;
  /** Σ max(0, r² − D − α) over the repulsion terms, and how many were positive. */
  repSum: string;
  repActive: string;
}

export function lowerCfaLossGradient(g: OnnxGraphBuilder, inputs: LossGraphInputs, config: LossConfig): LossGraphOutputs {
  const { phi, centres, indices, r2, attWeight, repWeight } = inputs;
  const zero = g.initializer(g.fresh('zero'), new Float32Array([0]), []);
  const alpha = g.initializer(g.fresh('alpha'), new Float32Array([config.alpha]), []);
  const total = (x: string) => g.node('ReduceSum', [x], { keepdims: attr.int(0) })[0];
  const positive = (x: string) => g.node('Cast', [g.node('Greater', [x, zero])[0]], { to: attr.int(1) })[0];
  const add = (a: string | undefined, b: string) => (a === undefined ? b : g.node('Add', [a, b])[0]);
  let grad: string | undefined, attSum: string | undefined, attActive: string | undefined, repSum: string | undefined, repActive: string | undefined;
  for (const [j, { att: inAtt, rep: inRep }] of neighbourRoles(config).entries()) {
    if (!inAtt && !inRep) continue;
    const column = g.node('Gather', [indices, g.initializer(g.fresh('j'), new BigInt64Array([BigInt(j)]), [])], { axis: attr.int(1) })[0];
    const diff = g.node('Sub', [phi, g.node('Gather', [centres, column], { axis: attr.int(0) })[0]])[0];
    const d = g.node('ReduceSum', [g.node('Mul', [diff, diff])[0], g.ints('axes', [1])], { keepdims: attr.int(1) })[0];
    let w: string | undefined;
    if (inAtt) {
      const excess = g.node('Sub', [d, r2])[0];
      const active = positive(excess);
      attSum = add(attSum, total(g.node('Relu', [excess])[0]));
      attActive = add(attActive, total(active));
      w = g.node('Mul', [active, attWeight])[0];
    }
    if (inRep) {
      const slack = g.node('Sub', [g.node('Sub', [r2, d])[0], alpha])[0];
      const active = positive(slack);
      repSum = add(repSum, total(g.node('Relu', [slack])[0]));
      repActive = add(repActive, total(active));
      const push = g.node('Mul', [active, repWeight])[0];
      w = w === undefined ? g.node('Neg', [push])[0] : g.node('Sub', [w, push])[0];
    }
    grad = add(grad, g.node('Mul', [diff, w!])[0]);
  }
  const two = g.initializer(g.fresh('two'), new Float32Array([2]), []);
  const orZero = (x: string | undefined) => x ?? zero;
  return {
    gradPhi: grad === undefined ? g.node('Mul', [phi, zero])[0] : g.node('Mul', [grad, two])[0],
    attSum: orZero(attSum),
    attActive: orZero(attActive),
    repSum: orZero(repSum),
    repActive: orZero(repActive),
  };
}
