/**
 * `lowerBatchDescriptor` (φ of upsampled embeddings with the weights stored in the graph, the form a
 * one-graph export uses) against the runner that feeds the weights on every call.
 */
import { createOrtRunner, createRng, OnnxGraphBuilder, selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { describe, expect, it } from 'vitest';
import { createCoordConvParams } from './coord-conv';
import { createDescriptorRunner } from './descriptor-runner';
import { lowerBatchDescriptor } from './embedding-descriptor-onnx';

describe('lowerBatchDescriptor', () => {
  it('x=[3,20,6], radius, γd=2: equals the runner for any batch size, weights as named constants', async () => {
    const [h, w, d] = [4, 5, 6];
    const params = createCoordConvParams({
      inChannels: d,
      gammaD: 2,
      withRadius: true,
      seed: 3,
      init: 'torch-default',
    });
    const rng = createRng(4);
    const x = Float32Array.from({ length: 3 * h * w * d }, () => rng.normal());
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const reference = await createDescriptorRunner({ engine, height: h, width: w, params });
    const g = new OnnxGraphBuilder('batch-descriptor');
    const phi = lowerBatchDescriptor(g, g.input('x', ['n', h * w, d]), { params, height: h, width: w, name: 'phi' });
    g.namedOutput(phi, 'phi', ['n', h * w, params.outChannels]);
    const runner = await createOrtRunner(engine, g.toBytes(), 'batch descriptor');
    for (const n of [1, 3]) {
      const out = await runner.run({ x: { data: x.subarray(0, n * h * w * d), dims: [n, h * w, d] } });
      expect(out.phi.dims).toEqual([n, h * w, params.outChannels]);
      const expected = await reference.forward(x.subarray(0, n * h * w * d), n, params);
      expect(maxRelativeError(out.phi.data as Float32Array, expected)).toBeLessThan(1e-6);
    }
    await runner.release();
    await reference.release();
    // the weights live in the graph under the given prefix, so several descriptors can share one
    expect(() => lowerBatchDescriptor(g, 'x', { params, height: h, width: w, name: 'phi' })).toThrow(/phi\.weight_x/);
  });
});
