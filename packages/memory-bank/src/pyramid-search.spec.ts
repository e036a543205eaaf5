/**
 * Ranking through the pyramid is the same search as ranking φ·Cᵀ: the same neighbours and squared
 * distances, and a training step that uses it gives the same loss and gradients.
 */
import { createOrtRunner, createRng, maxRelativeError, OnnxGraphBuilder, selectEngine } from '@cfa/tensor-runtime';
import {
  coordinatesInitializer,
  createCoordConvParams,
  type EmbeddingLevel,
  lowerCoordinateTerm,
  lowerPyramidForward,
  pyramidFeeds,
  pyramidInputs,
  pyramidLength,
  pyramidWeightFeeds,
  pyramidWeightInputs,
} from '@cfa/descriptor';
import { createMemoryBank, lowerNearest } from '@cfa/memory-bank';
import { LossConfigSchema } from '@cfa/scoring';
import { describe, expect, it } from 'vitest';
import { createOrtTrainStep } from './ort-train-step';
import { createPatchDistances } from './patch-distances';
import { lowerPyramidNearest, lowerPyramidSearchFactors, pyramidSearchPays } from './pyramid-search';

const levels: EmbeddingLevel[] = [
  { height: 8, width: 6, channels: 6 },
  { height: 4, width: 3, channels: 10 },
  { height: 2, width: 2, channels: 12 },
];
const hw = 48,
  d = 28,
  M = 40,
  k = 5;

describe('pyramid search', () => {
  const rng = createRng(11);
  const params = createCoordConvParams({ inChannels: d, gammaD: 1, seed: 2, init: 'torch-default' });
  const pyramids = [0, 1].map(() => Float32Array.from({ length: pyramidLength(levels) }, () => rng.normal()));
  const bank = createMemoryBank(
    Float32Array.from({ length: M * params.outChannels }, () => rng.normal() * 0.6),
    M,
    params.outChannels,
  );

  it('finds the neighbours and squared distances of φ·Cᵀ (ranking by φ·c − ‖c‖²/2)', async () => {
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const g = new OnnxGraphBuilder('pyramid-search-test');
    const weights = pyramidWeightInputs(g, levels, 2, d);
    const coords = coordinatesInitializer(g, 8, 6, 2);
    const xs = pyramidInputs(g, levels);
    const ct = g.input('ct', [d, M]),
      cn = g.input('cn', [M]);
    const phi = lowerPyramidForward(g, xs, weights, lowerCoordinateTerm(g, coords, weights), levels);
    const outputs = [
      ...lowerNearest(g, phi, ct, cn, k),
      ...lowerPyramidNearest(g, xs, phi, lowerPyramidSearchFactors(g, weights, coords, ct, cn), levels, k),
    ];
    outputs.forEach((v, i) => {
      g.node('Identity', [v], {}, [`out_${i}`]);
      g.output(`out_${i}`, [hw, k], i % 2 ? 'int64' : 'float');
    });
    const runner = await createOrtRunner(engine, g.toBytes(), 'pyramid search test');
    const out = await runner.run({
      ...pyramidWeightFeeds(params.weight, params.bias, levels, 2, d),
      ...pyramidFeeds(pyramids[0], levels),
      ct: { data: bank.transposed, dims: [d, M] },
      cn: { data: bank.squaredNorms, dims: [M] },
    });
    await runner.release();
    const [direct, directIdx, viaPyramid, viaPyramidIdx] = [0, 1, 2, 3].map((i) => out[`out_${i}`].data);
    expect(maxRelativeError(viaPyramid as Float32Array, direct as Float32Array)).toBeLessThan(1e-5);
    expect(Array.from(viaPyramidIdx as BigInt64Array)).toEqual(Array.from(directIdx as BigInt64Array));
  });

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

  it('is chosen where it takes fewer multiply-adds: WRN50-2 and ResNet-18 at γd = 1, not at γd = 4', () => {
    const wide = [
      { height: 56, width: 56, channels: 256 },
      { height: 28, width: 28, channels: 512 },
      { height: 14, width: 14, channels: 1024 },
    ];
    const r18 = [
      { height: 56, width: 56, channels: 64 },
      { height: 28, width: 28, channels: 128 },
      { height: 14, width: 14, channels: 256 },
    ];
    expect(pyramidSearchPays(wide, 1792, 4)).toBe(true);
    expect(pyramidSearchPays(r18, 448, 4)).toBe(true);
    expect(pyramidSearchPays(wide, 448, 4)).toBe(false);
    expect(pyramidSearchPays(r18, 112, Infinity)).toBe(false);
  });
});
