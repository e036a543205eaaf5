/**
 * AdamW with decoupled weight decay (and AMSGrad when asked), exactly as `torch.optim.AdamW` steps
 * (tfjs has no such optimiser). It updates plain Float32Arrays in place, so the same optimiser
 * serves both engines. Parameters may carry their own learning rates (torch's parameter groups:
 * CRAD trains its grids at 0.1 and its network at 0.001), and a schedule scales them all per step
 * (`lrFactor`, e.g. `stepLrFactor`), as torch's schedulers rewrite every group's `lr`.
 *
 *   θ ← θ · (1 − lr·λ)
 *   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  v̂ ← max(v̂, v)
 *   θ ← θ − lr/(1−β₁ᵗ) · m / (√v̂/√(1−β₂ᵗ) + ε)
 *
 * @example
 * ```ts
 * const opt = new AdamW([params.weight, params.bias, radius], { lr: 1e-3, weightDecay: 5e-4, amsgrad: true });
 * opt.step([gradWeight, gradBias, gradRadius]);
 * ```
 */
import { z } from 'zod';

export const OptimizerConfigSchema = z.strictObject({
  lr: z.number().positive().default(1e-3),
  weightDecay: z.number().nonnegative().default(5e-4),
  amsgrad: z.boolean().default(true),
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  eps: z.number().nonnegative().default(1e-8),
});
export type OptimizerConfig = z.infer<typeof OptimizerConfigSchema>;

export class AdamW {
  private readonly m: Float64Array[];
  private readonly v: Float64Array[];
  private readonly vMax: Float64Array[];
  private t = 0;
  private readonly config: OptimizerConfig;

  private readonly learningRates: number[];

  /**
   * @param learningRates one per parameter (torch's parameter groups); default `config.lr` for all.
   */
  constructor(
    readonly params: Float32Array[],
    config: Partial<OptimizerConfig> = {},
    learningRates?: number[],
  ) {
    this.config = OptimizerConfigSchema.parse(config);
    if (learningRates && learningRates.length !== params.length)
      throw new Error(`AdamW: ${params.length} parameters, ${learningRates.length} learning rates`);
    this.learningRates = learningRates ?? params.map(() => this.config.lr);
    this.m = params.map((p) => new Float64Array(p.length));
    this.v = params.map((p) => new Float64Array(p.length));
    this.vMax = params.map((p) => new Float64Array(p.length));
  }

  get steps(): number {
    return this.t;
  }

  /** One step; `lrFactor` scales every learning rate (a schedule's value for this step). */
  step(grads: ArrayLike<number>[], lrFactor = 1): void {
    if (grads.length !== this.params.length)
      throw new Error(`AdamW.step: ${this.params.length} parameters, ${grads.length} gradients`);
    const { weightDecay, amsgrad, beta1, beta2, eps } = this.config;
    this.t++;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** this.t);
    this.params.forEach((p, k) => {
      const lr = this.learningRates[k] * lrFactor;
      const constants: StepConstants = {
        decay: 1 - lr * weightDecay,
        beta1,
        beta2,
        eps,
        amsgrad,
        bc2Sqrt,
        stepSize: lr / (1 - beta1 ** this.t),
      };
      const g = grads[k];
      if (g.length !== p.length)
        throw new Error(`AdamW.step: parameter ${k} has ${p.length} values, its gradient ${g.length}`);
      // one element type per call site: a plain array here would make the loop's reads polymorphic (3× slower)
      updateParameter(
        p,
        g instanceof Float32Array ? g : Float32Array.from(g),
        this.m[k],
        this.v[k],
        this.vMax[k],
        constants,
      );
    });
  }
}

interface StepConstants {
  decay: number;
  beta1: number;
  beta2: number;
  eps: number;
  amsgrad: boolean;
  bc2Sqrt: number;
  stepSize: number;
}

function updateParameter(
  p: Float32Array,
  g: Float32Array,
  m: Float64Array,
  v: Float64Array,
  vMax: Float64Array,
  c: StepConstants,
): void {
  const { decay, beta1, beta2, eps, amsgrad, bc2Sqrt, stepSize } = c;
  const oneMinusBeta1 = 1 - beta1,
    oneMinusBeta2 = 1 - beta2;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    const mi = beta1 * m[i] + oneMinusBeta1 * gi;
    const vi = beta2 * v[i] + oneMinusBeta2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    let second = vi;
    if (amsgrad) {
      second = vi > vMax[i] ? vi : vMax[i];
      vMax[i] = second;
    }
    p[i] = p[i] * decay - (stepSize * mi) / (Math.sqrt(second) / bc2Sqrt + eps);
  }
}
