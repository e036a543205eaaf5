/**
 * AdamW with AMSGrad and decoupled weight decay, exactly as `torch.optim.AdamW(amsgrad=True)`
 * steps (tfjs has no such optimiser). It updates plain Float32Arrays in place, so the same
 * optimiser serves both engines.
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

  constructor(readonly params: Float32Array[], config: Partial<OptimizerConfig> = {}) {
    this.config = OptimizerConfigSchema.parse(config);
    this.m = params.map((p) => new Float64Array(p.length));
    this.v = params.map((p) => new Float64Array(p.length));
    this.vMax = params.map((p) => new Float64Array(p.length));
  }

  get steps(): number {
    return this.t;
  }

  step(grads: ArrayLike<number>[]): void {
    if (grads.length !== this.params.length) throw new Error(`AdamW.step: ${this.params.length} parameters, ${grads.length} gradients`);
    const { lr, weightDecay, amsgrad, beta1, beta2, eps } = this.config;
    this.t++;
    const bc1 = 1 - beta1 ** this.t;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** this.t);
    const stepSize = lr / bc1;
    this.params.forEach((p, k) => {
      const g = grads[k];
      if (g.length !== p.length) throw new Error(`AdamW.step: parameter ${k} has ${p.length} values, its gradient ${g.length}`);
      const m = this.m[k], v = this.v[k], vMax = this.vMax[k];
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        let theta = p[i] * (1 - lr * weightDecay);
        m[i] = beta1 * m[i] + (1 - beta1) * gi;
        v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
        let second = v[i];
        if (amsgrad) {
          if (v[i] > vMax[i]) vMax[i] = v[i];
          second = vMax[i];
        }
        theta -= (stepSize * m[i]) / (Math.sqrt(second) / bc2Sqrt + eps);
        p[i] = theta;
      }
    });
  }
}
