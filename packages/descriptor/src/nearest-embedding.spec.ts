/**
 * PaDiM's nearest-replication embedding: hand-worked small cases, the channel selection, bad
 * input, the ONNX lowering against the typed-array function, and the raw-map pyramid of
 * `createPatchEmbedder({ pooling: 'none' })` on both engines. The reference code's own
 * `embedding_concat` is checked in @cfa/padim's official-parity spec.
 */
import { createOrtRunner, createRng, OnnxGraphBuilder, selectEngine } from '@cfa/tensor-runtime';
import { buildBackboneModel, createBackboneRunner, randomInitWeights, resnet18Definition } from '@cfa/backbone';
import { describe, expect, it } from 'vitest';
import type { EmbeddingLevel } from './embedding-pyramid';
import { lowerNearestEmbedding, nearestEmbedding, randomChannels } from './nearest-embedding';
import { createPatchEmbedder } from './patch-embedding-runner';

const rng = createRng(3);
const random = (n: number) => Float32Array.from({ length: n }, () => rng.normal());

describe('nearestEmbedding', () => {
  it('levels 4×4×1 + 2×2×1: each coarse cell is replicated over its 2×2 block, after the fine channel', () => {
    const fine = Float32Array.from({ length: 16 }, (_, i) => i);
    const coarse = Float32Array.from([100, 200, 300, 400]);
    const levels = [
      { height: 4, width: 4, channels: 1 },
      { height: 2, width: 2, channels: 1 },
    ];
    const out = nearestEmbedding({ pyramid: Float32Array.from([...fine, ...coarse]), levels });
    expect(Array.from(out.filter((_, i) => i % 2 === 0))).toEqual(Array.from(fine));
    expect(Array.from(out.filter((_, i) => i % 2 === 1))).toEqual([
      100, 100, 200, 200, 100, 100, 200, 200, 300, 300, 400, 400, 300, 300, 400, 400,
    ]);
  });

  it('keeps the chosen channels in the chosen order, across levels', () => {
    const levels: EmbeddingLevel[] = [
      { height: 4, width: 4, channels: 3 },
      { height: 2, width: 2, channels: 2 },
      { height: 1, width: 1, channels: 4 },
    ];
    const pyramid = random(16 * 3 + 4 * 2 + 4);
    const all = nearestEmbedding({ pyramid, levels });
    const picks = [8, 0, 4, 3];
    const some = nearestEmbedding({ pyramid, levels, channels: picks });
    expect(some.length).toBe(16 * 4);
    for (let p = 0; p < 16; p++) picks.forEach((c, k) => expect(some[p * 4 + k]).toBe(all[p * 9 + c]));
  });

  it('names a channel outside the embedding', () => {
    const levels = [{ height: 2, width: 2, channels: 3 }];
    expect(() => nearestEmbedding({ pyramid: random(12), levels, channels: [0, 3] })).toThrow(
      /channel 3 \(entry 1\) is outside the embedding's 3 channels/,
    );
    expect(() => nearestEmbedding({ pyramid: random(11), levels })).toThrow(/holds 12 values, got 11/);
  });

  it('randomChannels: distinct, in range, a function of the seed', () => {
    const a = randomChannels(448, 100, 0);
    expect(new Set(a).size).toBe(100);
    expect(Math.max(...a)).toBeLessThan(448);
    expect(randomChannels(448, 100, 0)).toEqual(a);
    expect(randomChannels(448, 100, 1)).not.toEqual(a);
    expect(() => randomChannels(10, 11, 0)).toThrow(/cannot draw 11 of 10/);
  });
});

describe('lowerNearestEmbedding', () => {
  it.each([
    ['whole ratios 8 → 4 → 2', [8, 4, 2]],
    ['odd sizes 7 → 4 → 2 (⌊i·in/out⌋)', [7, 4, 2]],
  ])('%s: ONNX Runtime equals nearestEmbedding', async (_, sizes) => {
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const channels = [2, 3, 5];
    const shapes = sizes.map((s, i) => ({ name: `l${i}`, height: s, width: s, channels: channels[i], stride: 1 }));
    const levels = shapes.map(({ height, width, channels }) => ({ height, width, channels }));
    const picks = [9, 1, 4, 6, 0];
    const g = new OnnxGraphBuilder('nearest-embedding');
    const maps = shapes.map((s, i) => g.input(`m${i}`, ['n', s.channels, s.height, s.width]));
    g.namedOutput(lowerNearestEmbedding(g, maps, shapes, picks), 'e', ['n', picks.length, sizes[0], sizes[0]]);
    const runner = await createOrtRunner(engine, g.toBytes(), 'nearest embedding');
    const nhwc = shapes.map((s) => random(2 * s.height * s.width * s.channels));
    const nchw = (x: Float32Array, s: (typeof shapes)[number]) => {
      const out = new Float32Array(x.length);
      const hw = s.height * s.width;
      for (let b = 0; b < 2; b++)
        for (let p = 0; p < hw; p++)
          for (let c = 0; c < s.channels; c++) out[(b * s.channels + c) * hw + p] = x[(b * hw + p) * s.channels + c];
      return out;
    };
    const out = await runner.run(
      Object.fromEntries(
        shapes.map((s, i) => [`m${i}`, { data: nchw(nhwc[i], s), dims: [2, s.channels, s.height, s.width] }]),
      ),
    );
    await runner.release();
    const e = out.e.data as Float32Array;
    const hw = sizes[0] * sizes[0];
    for (let b = 0; b < 2; b++) {
      const pyramid = Float32Array.from(
        shapes.flatMap((s, i) =>
          Array.from(nhwc[i].subarray(b * s.height * s.width * s.channels, (b + 1) * s.height * s.width * s.channels)),
        ),
      );
      const expected = nearestEmbedding({ pyramid, levels, channels: picks });
      for (let p = 0; p < hw; p++)
        for (let k = 0; k < picks.length; k++)
          expect(e[(b * picks.length + k) * hw + p]).toBe(expected[p * picks.length + k]);
    }
  });
});

describe("createPatchEmbedder({ pooling: 'none' })", () => {
  it.each(['ort', 'tfjs'] as const)('stores the raw backbone maps as the pyramid on %s', async (name) => {
    const engine = await selectEngine({ requested: name, tfBackend: 'wasm', threads: 1 });
    const def = resnet18Definition({ taps: 'torchvision', widthDivisor: 8 });
    const model = buildBackboneModel(def, randomInitWeights(def, 1), { kind: 'random', seed: 1, id: 'test' });
    const images = random(2 * 32 * 32 * 3);
    const embedder = await createPatchEmbedder({ engine, backbone: model, inputSize: 32, pooling: 'none' });
    const pyramids = await embedder.embedPyramids(images, 2);
    await embedder.release();
    const runner = await createBackboneRunner({ engine, model, inputSize: 32 });
    const maps = await runner.forward(images, 2);
    await runner.release();
    for (let b = 0; b < 2; b++) {
      const expected = maps.flatMap((m) => {
        const per = m.data.length / 2;
        return Array.from(m.data.subarray(b * per, (b + 1) * per));
      });
      expect(Array.from(pyramids[b])).toEqual(expected);
    }
  });
});
