/**
 * The fused training step and inference give the same results whichever way they rank the
 * centres: through the embedding pyramid or by φ·Cᵀ (@cfa/memory-bank's pyramid-search.ts).
 */
import { createRng, selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { createCoordConvParams, type EmbeddingLevel, pyramidLength } from '@cfa/descriptor';
import { createMemoryBank } from '@cfa/memory-bank';
import { LossConfigSchema } from '@cfa/scoring';
import { describe, expect, it } from 'vitest';
import { createOrtTrainStep } from './ort-train-step';
import { createPatchDistances } from './patch-distances';

const levels: EmbeddingLevel[] = [
  { height: 8, width: 6, channels: 6 },
  { height: 4, width: 3, channels: 10 },
  { height: 2, width: 2, channels: 12 },
];
const hw = 48,
  d = 28,
  M = 40;

describe('ranking through the pyramid or by φ·Cᵀ', () => {
  const rng = createRng(11);
  const params = createCoordConvParams({ inChannels: d, gammaD: 1, seed: 2, init: 'torch-default' });
  const pyramids = [0, 1].map(() => Float32Array.from({ length: pyramidLength(levels) }, () => rng.normal()));
  const bank = createMemoryBank(
    Float32Array.from({ length: M * params.outChannels }, () => rng.normal() * 0.6),
    M,
    params.outChannels,
  );

  it('a training step ranking through the pyramid gives the loss and gradients of one ranking φ·Cᵀ', async () => {
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const loss = LossConfigSchema.parse({ K: 3, J: 2, alpha: 0.05, nu: 1e-3 });
    const results = [];
    for (const search of ['direct', 'pyramid'] as const) {
      const step = await createOrtTrainStep({ engine, params, levels, loss, search });
      results.push(await step.run(pyramids, params, bank, 4.2)); // r² among the K + J distances: both hinges active
      await step.release();
    }
    const [direct, viaPyramid] = results;
    expect(direct.lossAtt).toBeGreaterThan(0);
    expect(direct.lossRep).toBeGreaterThan(0);
    for (const key of ['loss', 'lossAtt', 'lossRep', 'gradR'] as const)
      expect(Math.abs(viaPyramid[key] - direct[key]), key).toBeLessThanOrEqual(1e-5 * Math.abs(direct[key]));
    expect(maxRelativeError(viaPyramid.gradWeight, direct.gradWeight)).toBeLessThan(1e-5);
    expect(maxRelativeError(viaPyramid.gradBias, direct.gradBias)).toBeLessThan(1e-5);
  });

  it('inference ranking through the pyramid (factors folded as constants) gives the distances of φ·Cᵀ', async () => {
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const out = [];
    for (const search of ['direct', 'pyramid'] as const) {
      const scorer = await createPatchDistances({ engine, params, bank, levels, k: 3, search });
      out.push(await scorer.nearest(pyramids));
      await scorer.release();
    }
    expect(out[1]).toHaveLength(2 * hw * 3);
    expect(maxRelativeError(out[1], out[0])).toBeLessThan(1e-5);
  });
});
