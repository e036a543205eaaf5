import { createOrtRunner, createRng, OnnxGraphBuilder, selectEngine } from '@cfa/tensor-runtime';
import { createMemoryBank, createNearestSearch, type MemoryBank } from '@cfa/memory-bank';
import { describe, expect, it } from 'vitest';
import { cfaLossAndGradient, LossConfigSchema, type LossConfig, lossFromSums, neighboursNeeded } from './loss';
import { lossGraphFeeds, lossGraphInputs, lowerCfaLossGradient } from './loss-onnx';

/** Runs the lowered loss on one set of inputs; returns the loss values and ∂loss/∂φ. */
async function ortLoss(
  phi: Float32Array,
  count: number,
  dim: number,
  bank: MemoryBank,
  nearest: { indices: Int32Array; distances: Float32Array },
  k: number,
  r: number,
  config: LossConfig,
) {
  const engine = await selectEngine({ requested: 'ort', threads: 1 });
  const g = new OnnxGraphBuilder('loss');
  const out = lowerCfaLossGradient(
    g,
    {
      phi: g.input('phi', ['p', dim]),
      indices: g.input('idx', ['p', k], 'int64'),
      distances: g.input('dist', ['p', k]),
      ...lossGraphInputs(g, dim),
    },
    config,
  );
  const names = {
    grad_phi: out.gradPhi,
    att_sum: out.attSum,
    att_active: out.attActive,
    rep_sum: out.repSum,
    rep_active: out.repActive,
  };
  for (const [name, value] of Object.entries(names)) g.namedOutput(value, name, name === 'grad_phi' ? ['p', dim] : []);
  const runner = await createOrtRunner(engine, g.toBytes(), 'loss test');
  const res = await runner.run({
    phi: { data: phi, dims: [count, dim] },
    idx: { data: BigInt64Array.from(nearest.indices, (v) => BigInt(v)), dims: [count, k] },
    dist: { data: nearest.distances, dims: [count, k] },
    ...lossGraphFeeds({ bank, count, r, config }),
  });
  await runner.release();
  const first = (name: string) => (res[name].data as Float32Array)[0];
  const sums = {
    attSum: first('att_sum'),
    attActive: first('att_active'),
    repSum: first('rep_sum'),
    repActive: first('rep_active'),
  };
  return { ...lossFromSums(sums, count, r, config), gradPhi: res.grad_phi.data as Float32Array };
}

describe('lowerCfaLossGradient (ONNX Runtime)', () => {
  it.each([
    ['att+rep, paper negatives', { nu: 1e-3, alpha: 0.1 }],
    ['att+rep, reference negatives, K=3, J=2', { K: 3, J: 2, negatives: 'reference', alpha: 0.05 }],
    ['att only', { terms: 'att', K: 2 }],
  ])('matches cfaLossAndGradient on random data with both hinges active (%s)', async (_, overrides) => {
    const config = LossConfigSchema.parse(overrides);
    const rng = createRng(5);
    const P = 96,
      D = 12,
      M = 50;
    const phi = Float32Array.from({ length: P * D }, () => rng.normal() * 0.5);
    const bank = createMemoryBank(
      Float32Array.from({ length: M * D }, () => rng.normal() * 0.5),
      M,
      D,
    );
    const k = neighboursNeeded(config);
    const search = await createNearestSearch({ engine: await selectEngine({ requested: 'ort', threads: 1 }), dim: D });
    const nearest = await search.nearest(phi, P, bank, k);
    const { indices } = nearest;
    await search.release();
    const r = 1.3;
    const ours = cfaLossAndGradient({ phi, count: P, bank, indices, k, r, config });
    const onnx = await ortLoss(phi, P, D, bank, nearest, k, r, config);
    expect(ours.lossAtt).toBeGreaterThan(0);
    if (config.terms === 'att+rep') expect(ours.lossRep).toBeGreaterThan(0);
    else expect(onnx.lossRep).toBe(0);
    for (const key of ['loss', 'lossAtt', 'lossRep', 'gradR'] as const) {
      expect(Math.abs(onnx[key] - ours[key]), key).toBeLessThanOrEqual(1e-5 * Math.max(Math.abs(ours[key]), 1));
    }
    let maxAbs = 0,
      maxRef = 0;
    ours.gradPhi.forEach((v, i) => {
      maxAbs = Math.max(maxAbs, Math.abs(v - onnx.gradPhi[i]));
      maxRef = Math.max(maxRef, Math.abs(v));
    });
    expect(maxRef).toBeGreaterThan(0);
    expect(maxAbs / maxRef).toBeLessThan(1e-5);
  });
});
