/**
 * `lowerPyramidDescriptor` and its gradient, and the runtime pyramid gradient, against the same
 * maths on the upsampled embedding (the runners' `forward` / `compute`).
 */
import { createOrtRunner, createRng, OnnxGraphBuilder, selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { describe, expect, it } from 'vitest';
import { createCoordConvParams } from './coord-conv';
import { createDescriptorGradient } from './descriptor-gradient-runner';
import { createDescriptorRunner } from './descriptor-runner';
import { type EmbeddingLevel, expandPyramid, expandPyramids, pyramidLength } from './embedding-pyramid';
import { lowerPyramidDescriptor, lowerPyramidDescriptorGradient } from './pyramid-descriptor-onnx';

const levels: EmbeddingLevel[] = [
  { height: 9, width: 7, channels: 5 },
  { height: 4, width: 3, channels: 6 },
  { height: 2, width: 2, channels: 3 },
];
const hw = 63,
  d = 14;
const params = createCoordConvParams({ inChannels: d, gammaD: 2, seed: 4, init: 'torch-default', withRadius: true });
const dOut = params.outChannels;
const rng = createRng(9);
const pyramids = [0, 1, 2].map(() => Float32Array.from({ length: pyramidLength(levels) }, () => rng.normal()));
const grads = Float32Array.from({ length: 3 * hw * dOut }, () => rng.normal());

async function reference() {
  const engine = await selectEngine({ requested: 'ort', threads: 1 });
  const runner = await createDescriptorRunner({ engine, height: 9, width: 7, params });
  const phi = await runner.forward(expandPyramids(pyramids, levels), 3, params);
  await runner.release();
  const gradient = await createDescriptorGradient({ engine, height: 9, width: 7, params });
  const expected = await gradient.compute(expandPyramids(pyramids, levels), grads, 3);
  await gradient.release();
  return { phi, ...expected };
}

describe('lowerPyramidDescriptor', () => {
  it.each(['input', 'constant'] as const)(
    'with weights as %s: φ of each image, ∂W and ∂b of their sum, as on the upsampled embeddings',
    async (weights) => {
      const engine = await selectEngine({ requested: 'ort', threads: 1 });
      const expected = await reference();
      const g = new OnnxGraphBuilder('pyramid-descriptor-test');
      const descriptor = lowerPyramidDescriptor(g, { levels, params, weights, images: 2 });
      const third = descriptor.addImage();
      expect(descriptor.images).toHaveLength(3);
      expect(third.xs).toEqual(['x_2_0', 'x_2_1', 'x_2_2']);
      const sum = lowerPyramidDescriptorGradient(g, descriptor);
      descriptor.images.forEach((image, b) => {
        g.namedOutput(image.phi, `phi_${b}`, [hw, dOut]);
        sum.add(image, g.input(`g_${b}`, [hw, dOut]));
      });
      const [gradWeight, gradBias] = sum.total();
      g.namedOutput(gradWeight, 'grad_weight', [d + 3, dOut]);
      g.namedOutput(gradBias, 'grad_bias', [dOut]);
      const runner = await createOrtRunner(engine, g.toBytes(), 'pyramid descriptor test');
      const feeds = descriptor.feeds(pyramids, weights === 'input' ? params : undefined);
      expect(Object.keys(feeds).some((k) => k.startsWith('weight'))).toBe(weights === 'input');
      [0, 1, 2].forEach(
        (b) => (feeds[`g_${b}`] = { data: grads.subarray(b * hw * dOut, (b + 1) * hw * dOut), dims: [hw, dOut] }),
      );
      const out = await runner.run(feeds);
      await runner.release();
      [0, 1, 2].forEach((b) =>
        expect(
          maxRelativeError(
            out[`phi_${b}`].data as Float32Array,
            expected.phi.subarray(b * hw * dOut, (b + 1) * hw * dOut),
          ),
          `φ of image ${b}`,
        ).toBeLessThan(1e-5),
      );
      expect(maxRelativeError(out.grad_weight.data as Float32Array, expected.gradWeight)).toBeLessThan(1e-5);
      expect(maxRelativeError(out.grad_bias.data as Float32Array, expected.gradBias)).toBeLessThan(1e-5);
    },
  );

  it('names a one-image graph x_<l>, and says what its feeds are missing', () => {
    const g = new OnnxGraphBuilder('names');
    const descriptor = lowerPyramidDescriptor(g, { levels, params, weights: 'input' });
    expect(descriptor.images[0].xs).toEqual(['x_0', 'x_1', 'x_2']);
    expect(() => descriptor.feeds(pyramids.slice(0, 2), params)).toThrow(/takes 1 image\(s\), got 2 pyramid\(s\)/);
    expect(() => descriptor.feeds(pyramids.slice(0, 1))).toThrow(/the weights are graph inputs: pass the params/);
    const other = createCoordConvParams({ inChannels: d, gammaD: 1, seed: 0 });
    expect(() => descriptor.feeds(pyramids.slice(0, 1), other)).toThrow(/built for 14\+3→7; got params 14\+2→14/);
    expect(() => lowerPyramidDescriptor(g, { levels: levels.slice(1), params, weights: 'input' })).toThrow(
      /takes 14 channels, the pyramid's levels hold 9/,
    );
    expect(() => lowerPyramidDescriptorGradient(g, descriptor).total()).toThrow(/no image was added/);
  });
});

describe('DescriptorGradient.computePyramids', () => {
  it.each(['ort', 'tfjs'] as const)('equals compute on the upsampled embeddings (%s)', async (name) => {
    const engine = await selectEngine({ requested: name, tfBackend: 'wasm', threads: 1 });
    const gradient = await createDescriptorGradient({ engine, height: 9, width: 7, params, levels });
    const expected = await gradient.compute(expandPyramids(pyramids, levels), grads, 3);
    const actual = await gradient.computePyramids(pyramids, grads);
    expect(maxRelativeError(actual.gradWeight, expected.gradWeight)).toBeLessThan(1e-5);
    expect(maxRelativeError(actual.gradBias, expected.gradBias)).toBeLessThan(1e-5);
    await expect(gradient.computePyramids(pyramids.slice(0, 2), grads)).rejects.toThrow(
      /expected (gradPhi \[2, 63, 7\]|embeddings \[126, 14\] and gradPhi \[126, 7\])/,
    );
    await gradient.release();
    const withoutLevels = await createDescriptorGradient({ engine, height: 9, width: 7, params });
    await expect(withoutLevels.computePyramids(pyramids, grads)).rejects.toThrow(/needs the pyramid's levels/);
    await withoutLevels.release();
  });

  it('expandPyramids stacks each image upsampled', () => {
    const stacked = expandPyramids(pyramids.slice(0, 2), levels);
    expect(stacked.subarray(hw * d)).toEqual(expandPyramid(pyramids[1], levels));
  });
});
