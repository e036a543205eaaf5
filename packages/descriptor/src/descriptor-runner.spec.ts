import * as tf from '@tensorflow/tfjs-core';
import { createRng, selectEngine } from '@cfa/tensor-runtime';
import { describe, expect, it } from 'vitest';
import { coordinateChannels, createCoordConvParams } from './coord-conv';
import { createDescriptorRunner } from './descriptor-runner';

describe('createDescriptorRunner.forward', () => {
  const h = 3,
    w = 4,
    d = 6,
    batch = 2;
  const params = createCoordConvParams({ inChannels: d, gammaD: 2, withRadius: true, seed: 4, init: 'torch-default' });
  const rng = createRng(5);
  const x = Float32Array.from({ length: batch * h * w * d }, () => rng.normal());

  /** φ written out with loops from the definition. */
  function naive(): Float32Array {
    const coords = coordinateChannels(h, w, true);
    const out = new Float32Array(batch * h * w * params.outChannels);
    for (let b = 0; b < batch; b++)
      for (let t = 0; t < h * w; t++)
        for (let o = 0; o < params.outChannels; o++) {
          let s = params.bias[o];
          for (let i = 0; i < d; i++) s += x[(b * h * w + t) * d + i] * params.weight[i * params.outChannels + o];
          for (let i = 0; i < 3; i++) s += coords[t * 3 + i] * params.weight[(d + i) * params.outChannels + o];
          out[(b * h * w + t) * params.outChannels + o] = s;
        }
    return out;
  }

  it.each(['ort', 'tfjs'] as const)('x=[2,12,6], radius, γd=2 on %s matches the loop definition', async (name) => {
    const engine = await selectEngine({ requested: name, tfBackend: 'wasm', threads: 1 });
    const runner = await createDescriptorRunner({ engine, height: h, width: w, params });
    expect(runner.engine).toBe(name);
    const before = tf.memory().numTensors;
    const phi = await runner.forward(x, batch, params);
    expect(tf.memory().numTensors).toBe(before);
    const ref = naive();
    phi.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 5));
    await expect(runner.forward(x.subarray(1), batch, params)).rejects.toThrow(/embeddings must hold \[2, 12, 6\]/);
    await runner.release();
  });
});
