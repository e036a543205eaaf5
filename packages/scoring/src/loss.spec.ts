import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients by itself; autograd here is the independent check of the closed form
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { createRng, selectEngine } from '@cfa/tensor-runtime';
import { createMemoryBank, createNearestSearch } from '@cfa/memory-bank';
import { beforeAll, describe, expect, it } from 'vitest';
import { cfaLossAndGradient, LossConfigSchema, neighboursNeeded } from './loss';
import { cfaLossTf } from './testing';

beforeAll(async () => {
  await selectEngine({ requested: 'tfjs', tfBackend: 'cpu' });
});

describe('cfaLossAndGradient', () => {
  it('1 patch, D′=1, K=J=1, α=0.1, ν=1, r=0.5: hand-worked loss and gradients', () => {
    // φ = 0; centres at 1 (D=1) and 0.3 (D=0.09). Sorted: c1 (0.09) then c0 (1).
    // att: max(0, 0.09 − 0.25) = 0. rep: max(0, 0.25 − 1 − 0.1) = 0. → loss 0.
    const bank = createMemoryBank(new Float32Array([1, 0.3]), 2, 1);
    const config = LossConfigSchema.parse({ K: 1, J: 1, alpha: 0.1, nu: 1 });
    const zero = cfaLossAndGradient({
      phi: new Float32Array([0]),
      count: 1,
      bank,
      indices: new Int32Array([1, 0]),
      k: 2,
      r: 0.5,
      config,
    });
    expect(zero.loss).toBe(0);
    // r = 0.1 (r² = 0.01): att = 0.09 − 0.01 = 0.08; rep = max(0, 0.01 − 1 − 0.1) = 0.
    // ∂att/∂φ = 2(φ − 0.3) = −0.6; ∂att/∂r = −2r = −0.2
    const g = cfaLossAndGradient({
      phi: new Float32Array([0]),
      count: 1,
      bank,
      indices: new Int32Array([1, 0]),
      k: 2,
      r: 0.1,
      config,
    });
    expect(g.lossAtt).toBeCloseTo(0.08, 6);
    expect(g.lossRep).toBe(0);
    expect(g.gradPhi[0]).toBeCloseTo(-0.6, 6);
    expect(g.gradR).toBeCloseTo(-0.2, 6);
    // r = 1.5 (r² = 2.25): att 0; rep = 2.25 − 1 − 0.1 = 1.15, ∂rep/∂φ = −2(φ − 1) = 2, ∂rep/∂r = 2r = 3
    const rep = cfaLossAndGradient({
      phi: new Float32Array([0]),
      count: 1,
      bank,
      indices: new Int32Array([1, 0]),
      k: 2,
      r: 1.5,
      config,
    });
    expect(rep.lossAtt).toBe(0);
    expect(rep.lossRep).toBeCloseTo(1.15, 6);
    expect(rep.gradPhi[0]).toBeCloseTo(2, 6);
    expect(rep.gradR).toBeCloseTo(3, 6);
  });

  it("'att' ignores the hard negatives, 'none' is zero, and ν divides everything", () => {
    const bank = createMemoryBank(new Float32Array([1, 0.3]), 2, 1);
    const base = { phi: new Float32Array([0]), count: 1, bank, indices: new Int32Array([1, 0]), k: 2, r: 1.5 };
    expect(
      cfaLossAndGradient({ ...base, config: LossConfigSchema.parse({ K: 1, J: 1, nu: 1, terms: 'att' }) }).loss,
    ).toBe(0);
    expect(
      cfaLossAndGradient({ ...base, config: LossConfigSchema.parse({ K: 1, J: 1, nu: 1, terms: 'none' }) }).loss,
    ).toBe(0);
    expect(
      cfaLossAndGradient({ ...base, config: LossConfigSchema.parse({ K: 1, J: 1, nu: 1e-3 }) }).lossRep,
    ).toBeCloseTo(1150, 3);
    expect(neighboursNeeded(LossConfigSchema.parse({ terms: 'att' }))).toBe(3);
    expect(neighboursNeeded(LossConfigSchema.parse({}))).toBe(6);
  });

  it("K=3, J=1: 'paper' negatives are neighbour 4, 'reference' slices from J (neighbours 2…4)", () => {
    const bank = createMemoryBank(new Float32Array([0.1, 0.2, 0.3, 0.4]), 4, 1);
    const base = {
      phi: new Float32Array([0]),
      count: 1,
      bank,
      indices: new Int32Array([0, 1, 2, 3]),
      k: 4,
      r: 1,
      config: undefined,
    };
    const paper = cfaLossAndGradient({
      ...base,
      config: LossConfigSchema.parse({ K: 3, J: 1, alpha: 0, nu: 1, negatives: 'paper' }),
    });
    const reference = cfaLossAndGradient({
      ...base,
      config: LossConfigSchema.parse({ K: 3, J: 1, alpha: 0, nu: 1 }), // the default: the reference code's slice
    });
    expect(paper.lossRep).toBeCloseTo(1 - 0.16, 6);
    expect(reference.lossRep).toBeCloseTo((1 - 0.04 + (1 - 0.09) + (1 - 0.16)) / 3, 6);
  });

  it('matches TensorFlow.js autograd of the same loss on random data (P=64, D′=8, 40 centres)', async () => {
    const engine = await selectEngine({ requested: 'tfjs', tfBackend: 'cpu' });
    const rng = createRng(3);
    const P = 64,
      D = 8,
      M = 40;
    const phi = Float32Array.from({ length: P * D }, () => rng.normal() * 0.5);
    const bank = createMemoryBank(
      Float32Array.from({ length: M * D }, () => rng.normal() * 0.5),
      M,
      D,
    );
    const config = LossConfigSchema.parse({ nu: 1e-3, alpha: 0.1 });
    const r = 1.2; // large enough that both terms are active
    const search = await createNearestSearch({ engine, dim: D });
    const { indices } = await search.nearest(phi, P, bank, 6);
    const ours = cfaLossAndGradient({ phi, count: P, bank, indices, k: 6, r, config });
    expect(ours.lossAtt).toBeGreaterThan(0);
    expect(ours.lossRep).toBeGreaterThan(0);

    const before = tf.memory().numTensors;
    const phiT = tf.tensor2d(phi, [P, D]);
    const rT = tf.scalar(r);
    const gathered = tf.tidy(() =>
      tf.reshape(tf.gather(tf.tensor2d(bank.centres, [M, D]), tf.tensor1d(indices, 'int32')), [P, 6, D]),
    ) as tf.Tensor3D;
    const { value, grads } = tf.valueAndGrads(
      (p: tf.Tensor, rr: tf.Tensor) => cfaLossTf({ phi: p as tf.Tensor2D, gathered, r: rr as tf.Scalar, config }).loss,
    )([phiT, rT]);
    expect(value.dataSync()[0]).toBeCloseTo(ours.loss, 1);
    expect(Math.abs(value.dataSync()[0] - ours.loss) / ours.loss).toBeLessThan(1e-5);
    const gPhi = grads[0].dataSync();
    let maxAbs = 0,
      maxRef = 0;
    for (let i = 0; i < gPhi.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(gPhi[i] - ours.gradPhi[i]));
      maxRef = Math.max(maxRef, Math.abs(gPhi[i]));
    }
    expect(maxAbs / maxRef).toBeLessThan(1e-5);
    expect(Math.abs(grads[1].dataSync()[0] - ours.gradR) / Math.abs(ours.gradR)).toBeLessThan(1e-5);
    tf.dispose([phiT, rT, gathered, value, ...grads]);
    expect(tf.memory().numTensors).toBe(before);
    await search.release();
  });

  it('validates its inputs', () => {
    const bank = createMemoryBank(new Float32Array([1, 0.3]), 2, 1);
    const config = LossConfigSchema.parse({});
    expect(() =>
      cfaLossAndGradient({
        phi: new Float32Array([0]),
        count: 1,
        bank,
        indices: new Int32Array([1, 0]),
        k: 2,
        r: 1,
        config,
      }),
    ).toThrow(/indices must be \[1, ≥6\]/);
    expect(() => LossConfigSchema.parse({ K: 3, gama: 1 })).toThrow(/gama/);
  });
});
