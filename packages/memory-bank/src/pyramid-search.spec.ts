/**
 * Ranking through the pyramid is the same search as ranking φ·Cᵀ: the same neighbours and squared
 * distances (the cfa package checks that its training step and inference give the same results
 * either way: nearest-ranking.spec.ts).
 */
import { createOrtRunner, createRng, OnnxGraphBuilder, selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { createCoordConvParams, type EmbeddingLevel, lowerPyramidDescriptor, pyramidLength } from '@cfa/descriptor';
import { describe, expect, it } from 'vitest';
import { createMemoryBank } from './memory-bank';
import { lowerNearest, memoryBankFeeds, memoryBankInputs } from './nearest-onnx';
import {
  lowerDescriptorNearest,
  lowerPyramidNearest,
  lowerPyramidSearchFactors,
  pyramidSearchPays,
} from './pyramid-search';

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
    const descriptor = lowerPyramidDescriptor(g, { levels, params, weights: 'input' });
    const bankGraph = memoryBankInputs(g, d);
    const [image] = descriptor.images;
    const outputs = [
      ...lowerNearest(g, image.phi, bankGraph.ct, bankGraph.cn, k),
      ...lowerPyramidNearest(g, image, lowerPyramidSearchFactors(g, descriptor, bankGraph), levels, k),
    ];
    outputs.forEach((v, i) => g.namedOutput(v, `out_${i}`, [hw, k], i % 2 ? 'int64' : 'float'));
    const runner = await createOrtRunner(engine, g.toBytes(), 'pyramid search test');
    const out = await runner.run({ ...descriptor.feeds(pyramids.slice(0, 1), params), ...memoryBankFeeds(bank) });
    await runner.release();
    const [direct, directIdx, viaPyramid, viaPyramidIdx] = [0, 1, 2, 3].map((i) => out[`out_${i}`].data);
    expect(maxRelativeError(viaPyramid as Float32Array, direct as Float32Array)).toBeLessThan(1e-5);
    expect(Array.from(viaPyramidIdx as BigInt64Array)).toEqual(Array.from(directIdx as BigInt64Array));
  });

  it('lowerDescriptorNearest ranks as asked, and auto as pyramidSearchPays says (direct for this small descriptor)', async () => {
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const g = new OnnxGraphBuilder('descriptor-nearest-test');
    const descriptor = lowerPyramidDescriptor(g, { levels, params, weights: 'input', images: 2 });
    const bankGraph = memoryBankInputs(g, d);
    const rankings = ['direct', 'pyramid', 'auto'] as const;
    expect(pyramidSearchPays(levels, d, 2)).toBe(false);
    const manual = descriptor.images.flatMap((image) => [
      lowerNearest(g, image.phi, bankGraph.ct, bankGraph.cn, k)[0],
      lowerPyramidNearest(g, image, lowerPyramidSearchFactors(g, descriptor, bankGraph), levels, k)[0],
    ]);
    const viaHelper = rankings.flatMap((ranking) => {
      const nearest = lowerDescriptorNearest(g, descriptor, bankGraph, { ranking, imagesPerRun: 2 });
      return descriptor.images.map((image) => nearest(image, k)[0]);
    });
    [...manual, ...viaHelper].forEach((v, i) => g.namedOutput(v, `out_${i}`, [hw, k]));
    const runner = await createOrtRunner(engine, g.toBytes(), 'descriptor nearest test');
    const out = await runner.run({ ...descriptor.feeds(pyramids, params), ...memoryBankFeeds(bank) });
    await runner.release();
    const value = (i: number) => Array.from(out[`out_${i}`].data as Float32Array);
    // manual: image 0 direct, image 0 pyramid, image 1 direct, image 1 pyramid
    const expected = { direct: [value(0), value(2)], pyramid: [value(1), value(3)] };
    expect(value(0)).not.toEqual(value(1)); // the two rankings round differently, so equality below says which ran
    expect([value(4), value(5)]).toEqual(expected.direct);
    expect([value(6), value(7)]).toEqual(expected.pyramid);
    expect([value(8), value(9)]).toEqual(expected.direct);
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
