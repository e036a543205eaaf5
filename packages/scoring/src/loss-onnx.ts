/**
 * The CFA loss and ∂loss/∂φ as an ONNX graph piece, for a fused training step that keeps φ and its
 * gradient inside ONNX Runtime. The same definition as `cfaLossAndGradient` (see loss.ts): the
 * hinges take the K + J squared distances the nearest search already computed
 * (‖φ‖² + ‖c‖² − 2 φ·c, as the reference code does), and
 * ∂/∂φ Σ_j w_j ‖φ − c_j‖² = 2 (Σ_j w_j) φ − 2 Σ_j w_j c_j gathers the K + J centres once and
 * weights them with one batched product, instead of forming every φ − c_j.
 *
 * The graph returns raw sums and active counts per piece so that a caller running one image at a
 * time can add them up; `lossFromSums` (loss.ts) turns the totals into the loss values and ∂loss/∂r.
 * The values that change from step to step — the centres, r² and the two hinge weights, which
 * carry the means' 1/(P·K), 1/(P·J) of Eq. 1–2 and the reference code's 1/ν — are graph inputs
 * (`lossGraphInputs`), filled by `lossGraphFeeds`. A graph over several images adds their sums up
 * (`lowerLossSumsTotal`) and returns them as outputs (`lossSumOutputs`, read by `lossSumsFromOutputs`).
 *
 * @example
 * ```ts
 * const [distances, indices] = lowerNearest(g, phi, ct, cn, neighboursNeeded(DEFAULT_LOSS_CONFIG));
 * const loss = lowerCfaLossGradient(g, { phi, indices, distances, ...lossGraphInputs(g, 448) }, DEFAULT_LOSS_CONFIG);
 * g.namedOutput(loss.gradPhi, 'grad_phi', ['p', 448]);
 * // feeds: { ...lossGraphFeeds({ bank, count: 4 * 3136, r, config: DEFAULT_LOSS_CONFIG }), … }
 * ```
 */
import { attr, type OnnxGraphBuilder, type OrtFeed } from '@cfa/tensor-runtime';
import type { MemoryBank } from '@cfa/memory-bank';
import { type LossConfig, type LossSums, neighbourRoles, termScales } from './loss';

export interface LossGraphInputs {
  /** φ [P, D′]. */
  phi: string;
  /** C [M, D′]. */
  centres: string;
  /** Nearest centre indices [P, ≥need], int64, ascending distance. */
  indices: string;
  /** Their squared distances [P, ≥need]. */
  distances: string;
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

/** The loss inputs that change between steps: centres, r2, att_weight, rep_weight. */
export type LossStepInputs = Pick<LossGraphInputs, 'centres' | 'r2' | 'attWeight' | 'repWeight'>;

/** Graph inputs `centres` [M, D′], `r2`, `att_weight`, `rep_weight` (scalars), for `lossGraphFeeds`. */
export function lossGraphInputs(g: OnnxGraphBuilder, dim: number): LossStepInputs {
  return {
    centres: g.input('centres', ['m', dim]),
    r2: g.input('r2', []),
    attWeight: g.input('att_weight', []),
    repWeight: g.input('rep_weight', []),
  };
}

export interface LossGraphFeedsParams {
  bank: MemoryBank;
  /** Patches in the step (images · H·W): the means of Eq. 1–2 run over them. */
  count: number;
  /** The radius r. */
  r: number;
  config: LossConfig;
}

/** The feeds of `lossGraphInputs` for one step. */
export function lossGraphFeeds({ bank, count, r, config }: LossGraphFeedsParams): Record<string, OrtFeed> {
  const scale = termScales(count, config);
  const scalar = (v: number) => ({ data: new Float32Array([v]), dims: [] });
  return {
    centres: { data: bank.centres, dims: [bank.size, bank.dim] },
    r2: scalar(r * r),
    att_weight: scalar(scale.att / config.nu),
    rep_weight: scalar(scale.rep / config.nu),
  };
}

export function lowerCfaLossGradient(
  g: OnnxGraphBuilder,
  inputs: LossGraphInputs,
  config: LossConfig,
): LossGraphOutputs {
  const { phi, centres, indices, distances, r2, attWeight, repWeight } = inputs;
  const zero = g.initializer(g.fresh('zero'), new Float32Array([0]), []);
  const two = g.initializer(g.fresh('two'), new Float32Array([2]), []);
  let alpha: string | undefined; // only when a repulsion term uses it (ONNX Runtime warns of unused constants)
  const total = (x: string) => g.node('ReduceSum', [x], { keepdims: attr.int(0) })[0];
  const positive = (x: string) => g.node('Cast', [g.node('Greater', [x, zero])[0]], { to: attr.int(1) })[0];
  const add = (a: string | undefined, b: string) => (a === undefined ? b : g.node('Add', [a, b])[0]);
  let weightSum: string | undefined, pulled: string | undefined;
  const used: number[] = [],
    ws: string[] = [];
  let attSum: string | undefined,
    attActive: string | undefined,
    repSum: string | undefined,
    repActive: string | undefined;
  for (const [j, { att: inAtt, rep: inRep }] of neighbourRoles(config).entries()) {
    if (!inAtt && !inRep) continue;
    const d = g.node('Slice', [distances, g.ints('start', [j]), g.ints('end', [j + 1]), g.ints('axis', [1])])[0]; // [P, 1]
    let w: string | undefined;
    if (inAtt) {
      const excess = g.node('Sub', [d, r2])[0];
      const active = positive(excess);
      attSum = add(attSum, total(g.node('Relu', [excess])[0]));
      attActive = add(attActive, total(active));
      w = g.node('Mul', [active, attWeight])[0];
    }
    if (inRep) {
      alpha ??= g.initializer(g.fresh('alpha'), new Float32Array([config.alpha]), []);
      const slack = g.node('Sub', [g.node('Sub', [r2, d])[0], alpha])[0];
      const active = positive(slack);
      repSum = add(repSum, total(g.node('Relu', [slack])[0]));
      repActive = add(repActive, total(active));
      const push = g.node('Mul', [active, repWeight])[0];
      w = w === undefined ? g.node('Neg', [push])[0] : g.node('Sub', [w, push])[0];
    }
    const w2 = g.node('Mul', [w!, two])[0]; // [P, 1]: the factor 2 of the derivative rides on the weights
    weightSum = add(weightSum, w2);
    used.push(j);
    ws.push(w2);
  }
  if (used.length) {
    const cols = g.node('Gather', [indices, g.ints('cols', used)], { axis: attr.int(1) })[0]; // [P, k]
    const gathered = g.node('Gather', [centres, cols], { axis: attr.int(0) })[0]; // [P, k, D′]
    const wrow = g.node('Unsqueeze', [g.node('Concat', ws, { axis: attr.int(1) })[0], g.ints('ax', [1])])[0]; // [P, 1, k]
    pulled = g.node('Squeeze', [g.node('MatMul', [wrow, gathered])[0], g.ints('ax', [1])])[0];
  }
  const orZero = (x: string | undefined) => x ?? zero;
  return {
    gradPhi:
      pulled === undefined
        ? g.node('Mul', [phi, zero])[0]
        : g.node('Sub', [g.node('Mul', [phi, weightSum!])[0], pulled])[0],
    attSum: orZero(attSum),
    attActive: orZero(attActive),
    repSum: orZero(repSum),
    repActive: orZero(repActive),
  };
}

/** The hinge sums of `LossGraphOutputs` (value names). */
export type LossSumsGraph = Pick<LossGraphOutputs, 'attSum' | 'attActive' | 'repSum' | 'repActive'>;

/** `total` plus one more image's sums (the first image's, `total` undefined, as they are). */
export function lowerLossSumsTotal(
  g: OnnxGraphBuilder,
  total: LossSumsGraph | undefined,
  image: LossSumsGraph,
): LossSumsGraph {
  if (!total)
    return { attSum: image.attSum, attActive: image.attActive, repSum: image.repSum, repActive: image.repActive };
  const add = (a: string, b: string) => g.node('Add', [a, b])[0];
  return {
    attSum: add(total.attSum, image.attSum),
    attActive: add(total.attActive, image.attActive),
    repSum: add(total.repSum, image.repSum),
    repActive: add(total.repActive, image.repActive),
  };
}

const SUM_OUTPUTS = { attSum: 'att_sum', attActive: 'att_active', repSum: 'rep_sum', repActive: 'rep_active' } as const;

/** The sums as scalar graph outputs att_sum, att_active, rep_sum, rep_active. */
export function lossSumOutputs(g: OnnxGraphBuilder, sums: LossSumsGraph): void {
  for (const [key, name] of Object.entries(SUM_OUTPUTS)) g.namedOutput(sums[key as keyof LossSumsGraph], name, []);
}

/** The sums of a run of a graph with `lossSumOutputs`, for `lossFromSums`. */
export function lossSumsFromOutputs(out: Record<string, { data: Float32Array | BigInt64Array }>): LossSums {
  const first = (name: string) => (out[name].data as Float32Array)[0];
  return {
    attSum: first(SUM_OUTPUTS.attSum),
    attActive: first(SUM_OUTPUTS.attActive),
    repSum: first(SUM_OUTPUTS.repSum),
    repActive: first(SUM_OUTPUTS.repActive),
  };
}
