import { describe, expect, it } from 'vitest';
import { AdamW } from './adamw';

describe('AdamW (amsgrad, decoupled weight decay)', () => {
  it('first step: θ − lr·sign(g) after decay (m̂/√v̂ = g/|g|)', () => {
    const theta = new Float32Array([1, -2]);
    const opt = new AdamW([theta], { lr: 0.1, weightDecay: 0.5, eps: 0 });
    opt.step([[3, -0.5]]);
    // decay: 1·(1 − 0.05) = 0.95, −2·0.95 = −1.9; then −0.1·sign(g)
    expect(theta[0]).toBeCloseTo(0.85, 6);
    expect(theta[1]).toBeCloseTo(-1.8, 6);
  });

  it('two steps by hand, amsgrad keeps the larger second moment', () => {
    const theta = new Float32Array([0]);
    const opt = new AdamW([theta], { lr: 1, weightDecay: 0, beta1: 0.5, beta2: 0.5, eps: 0 });
    opt.step([[2]]); // m=1, v=2, v̂=2; m̂ = 1/0.5 = 2; denom √2/√0.5 = 2 → θ = −1
    expect(theta[0]).toBeCloseTo(-1, 6);
    opt.step([[0]]); // m=0.5, v=1, v̂=2; step = 1/(1−.25) · 0.5 / (√2/√.75) = (2/3)·√.75/√2
    expect(theta[0]).toBeCloseTo(-1 - ((2 / 3) * Math.sqrt(0.75)) / Math.sqrt(2), 6);
  });

  it('without amsgrad the second step uses the current v', () => {
    const theta = new Float32Array([0]);
    const opt = new AdamW([theta], { lr: 1, weightDecay: 0, beta1: 0.5, beta2: 0.5, eps: 0, amsgrad: false });
    opt.step([[2]]);
    opt.step([[0]]); // v=1 → denom √1/√.75 → step (2/3)·√.75
    expect(theta[0]).toBeCloseTo(-1 - (2 / 3) * Math.sqrt(0.75), 6);
    expect(opt.steps).toBe(2);
  });

  it('names mismatched gradients', () => {
    const opt = new AdamW([new Float32Array(2)]);
    expect(() => opt.step([[1]])).toThrow(/parameter 0 has 2 values, its gradient 1/);
    expect(() => new AdamW([new Float32Array(1)], { lr: -1 })).toThrow();
  });
});
