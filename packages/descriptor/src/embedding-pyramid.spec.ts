/**
 * The embedding pyramid is the patch embedding before its upsampling: expanding it gives
 * `patchEmbedding`'s result, and the descriptor's per-level graph pieces (forward and weight
 * gradient) give what the same pieces compute on the upsampled embedding.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createOrtRunner, createRng, OnnxGraphBuilder, selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCoordConvParams } from './coord-conv';
import {
  coordConvWeightFeeds,
  coordConvWeightInputs,
  coordinatesAndOneInitializer,
  coordinatesInitializer,
  finishPyramidGradient,
  lowerCoordConvForward,
  lowerCoordConvWeightGradient,
  lowerCoordinateTerm,
  lowerPyramidForward,
  lowerPyramidWeightGradient,
  pyramidFeeds,
  pyramidInputs,
  pyramidWeightFeeds,
  pyramidWeightInputs,
} from './coord-conv-onnx';
import { createDescriptorRunner } from './descriptor-runner';
import { type EmbeddingLevel, expandPyramid, pyramidLength, pyramidLevels } from './embedding-pyramid';
import { patchEmbedding, pooledMaps } from './patch-embedding-tf';

beforeAll(async () => {
  await selectEngine({ requested: 'tfjs', tfBackend: 'wasm' });
});

// odd sizes on purpose: 9 → 4 and 7 → 3 are not whole ratios, 2×2 is smaller than a 3-tap pool
const levels: EmbeddingLevel[] = [
  { height: 9, width: 7, channels: 5 },
  { height: 4, width: 3, channels: 6 },
  { height: 2, width: 2, channels: 3 },
];

describe('expandPyramid', () => {
  it('equals patchEmbedding (tfjs resizeBilinear, half-pixel) of the same maps', () => {
    const rng = createRng(2);
    const maps = levels.map((l) =>
      tf.tensor4d(
        Float32Array.from({ length: 2 * l.height * l.width * l.channels }, () => rng.normal()),
        [2, l.height, l.width, l.channels],
      ),
    );
    const expected = patchEmbedding({ maps });
    const pooled = pooledMaps({ maps });
    const perLevel = pooled.map((p) => p.dataSync() as Float32Array);
    const values = pyramidLength(levels);
    const all = expected.dataSync();
    for (let b = 0; b < 2; b++) {
      const pyramid = new Float32Array(values);
      let offset = 0;
      levels.forEach((l, i) => {
        const n = l.height * l.width * l.channels;
        pyramid.set(perLevel[i].subarray(b * n, (b + 1) * n), offset);
        offset += n;
      });
      const one = all.subarray(b * 63 * 14, (b + 1) * 63 * 14);
      expect(maxRelativeError(expandPyramid(pyramid, levels), one)).toBeLessThan(1e-6);
    }
    tf.dispose([...maps, expected, ...pooled]);
  });

  it('names the levels and the length when a pyramid does not fit them', () => {
    expect(() => pyramidLevels(new Float32Array(10), levels)).toThrow(
      /9×7×5 \+ 4×3×6 \+ 2×2×3 holds 399 values, got 10/,
    );
  });
});

describe('pyramid graph pieces on ONNX Runtime', () => {
  const { height, width } = levels[0];
  const hw = height * width;
  const d = levels.reduce((s, l) => s + l.channels, 0);
  const params = createCoordConvParams({ inChannels: d, gammaD: 1, seed: 1, init: 'torch-default' });
  const { coordChannels: c, outChannels: dOut } = params;
  const shape = { hw, inChannels: d, coordChannels: c, outChannels: dOut };
  const rng = createRng(3);
  const pyramid = Float32Array.from({ length: pyramidLength(levels) }, () => rng.normal());
  const grad = Float32Array.from({ length: hw * dOut }, () => rng.normal());
  const embedding = expandPyramid(pyramid, levels);

  async function run(
    build: (g: OnnxGraphBuilder) => string[],
    feeds: Record<string, { data: Float32Array; dims: number[] }>,
    dims: number[][],
  ) {
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const g = new OnnxGraphBuilder('pyramid-test');
    build(g).forEach((v, i) => {
      g.node('Identity', [v], {}, [`out_${i}`]);
      g.output(`out_${i}`, dims[i]);
    });
    const runner = await createOrtRunner(engine, g.toBytes(), 'pyramid test');
    const out = await runner.run(feeds);
    await runner.release();
    return Object.keys(out)
      .sort()
      .map((k) => out[k].data as Float32Array);
  }
  const weightsAndPyramid = () => ({
    ...pyramidWeightFeeds(params.weight, params.bias, levels, c, dOut),
    ...pyramidFeeds(pyramid, levels),
  });

  it('φ level by level equals φ of the upsampled embedding', async () => {
    const [expected] = await run(
      (g) => {
        const coords = coordinatesInitializer(g, height, width, c);
        return [lowerCoordConvForward(g, g.input('x', [hw, d]), coordConvWeightInputs(g, shape), coords, 'image')];
      },
      { x: { data: embedding, dims: [hw, d] }, ...coordConvWeightFeeds(params.weight, params.bias, shape) },
      [[hw, dOut]],
    );
    const [actual] = await run(
      (g) => {
        const weights = pyramidWeightInputs(g, levels, c, dOut);
        const coordTerm = lowerCoordinateTerm(g, coordinatesInitializer(g, height, width, c), weights);
        return [lowerPyramidForward(g, pyramidInputs(g, levels), weights, coordTerm, levels)];
      },
      weightsAndPyramid(),
      [[hw, dOut]],
    );
    expect(maxRelativeError(actual, expected)).toBeLessThan(1e-5);
  });

  it('∂W and ∂b level by level (Uᵀ G at each level) equal Xᵀ G on the upsampled embedding, also accumulated over images', async () => {
    const [expectedW, expectedB] = await run(
      (g) => {
        const coords = coordinatesInitializer(g, height, width, c);
        return lowerCoordConvWeightGradient(g, g.input('x', [hw, d]), g.input('g', [hw, dOut]), coords, shape);
      },
      { x: { data: embedding, dims: [hw, d] }, g: { data: grad, dims: [hw, dOut] } },
      [[d + c, dOut], [dOut]],
    );
    const [actualB, actualW] = await run(
      (g) => {
        pyramidWeightInputs(g, levels, c, dOut);
        const xs = pyramidInputs(g, levels);
        const gv = g.input('g', [hw, dOut]);
        const coordsAndOne = coordinatesAndOneInitializer(g, height, width, c);
        // the same image twice through the accumulating form: twice the gradient
        const once = lowerPyramidWeightGradient(g, xs, gv, coordsAndOne, levels);
        const twice = lowerPyramidWeightGradient(g, xs, gv, coordsAndOne, levels, once);
        const [w, b] = finishPyramidGradient(g, twice, c);
        return [b, w];
      },
      { ...weightsAndPyramid(), g: { data: grad, dims: [hw, dOut] } },
      [[dOut], [d + c, dOut]],
    );
    expect(
      maxRelativeError(
        actualW.map((v) => v / 2),
        expectedW,
      ),
    ).toBeLessThan(1e-5);
    expect(
      maxRelativeError(
        actualB.map((v) => v / 2),
        expectedB,
      ),
    ).toBeLessThan(1e-5);
  });
});

describe('DescriptorRunner.forwardPyramid', () => {
  it.each(['ort', 'tfjs'] as const)('equals forward of the upsampled embedding (%s)', async (name) => {
    const engine = await selectEngine({ requested: name, tfBackend: 'wasm', threads: 1 });
    const d = levels.reduce((s, l) => s + l.channels, 0);
    const params = createCoordConvParams({ inChannels: d, gammaD: 2, seed: 6, init: 'torch-default' });
    const rng = createRng(8);
    const pyramid = Float32Array.from({ length: pyramidLength(levels) }, () => rng.normal());
    const runner = await createDescriptorRunner({ engine, height: 9, width: 7, params, levels });
    const expected = await runner.forward(expandPyramid(pyramid, levels), 1, params);
    expect(maxRelativeError(await runner.forwardPyramid(pyramid, params), expected)).toBeLessThan(1e-5);
    await expect(runner.forwardPyramid(pyramid.subarray(1), params)).rejects.toThrow(/holds 399 values, got 398/);
    await runner.release();
  });
});
