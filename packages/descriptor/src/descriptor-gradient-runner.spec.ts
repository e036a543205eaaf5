import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients by itself; autograd here is the independent check of the closed form
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { createRng, selectEngine } from '@cfa/tensor-runtime';
import { describe, expect, it } from 'vitest';
import { coordinateChannels, createCoordConvParams } from './coord-conv';
import { createDescriptorGradient } from './descriptor-gradient-runner';
import { descriptorForwardTf } from './descriptor-tf';

describe('createDescriptorGradient', () => {
  it.each(['ort', 'tfjs'] as const)(
    'on %s equals TensorFlow.js autograd of Σ φ·G through descriptorForwardTf (x=[2,6,5], radius)',
    async (engineName) => {
      const h = 2,
        w = 3,
        d = 5,
        batch = 2;
      const params = createCoordConvParams({ inChannels: d, gammaD: 1, withRadius: true, seed: 8 });
      const rng = createRng(9);
      const x = Float32Array.from({ length: batch * h * w * d }, () => rng.normal());
      const g = Float32Array.from({ length: batch * h * w * params.outChannels }, () => rng.normal());
      const engine = await selectEngine({ requested: engineName, tfBackend: 'wasm', threads: 1 });
      const grad = await createDescriptorGradient({ engine, height: h, width: w, params });
      const ours = await grad.compute(x, g, batch);
      await grad.release();
      const [gw, gb] = tf.tidy(() => {
        const xs = tf.tensor3d(x, [batch, h * w, d]);
        const coords = tf.tensor2d(coordinateChannels(h, w, true), [h * w, 3]);
        const gs = tf.tensor3d(g, [batch, h * w, params.outChannels]);
        const f = (wt: tf.Tensor, bt: tf.Tensor) =>
          tf.sum(
            tf.mul(descriptorForwardTf({ x: xs, weight: wt as tf.Tensor2D, bias: bt as tf.Tensor1D, coords }), gs),
          );
        return tf.grads(f)([tf.tensor2d(params.weight, [d + 3, params.outChannels]), tf.tensor1d(params.bias)]);
      });
      Array.from(gw.dataSync()).forEach((v, i) => expect(ours.gradWeight[i]).toBeCloseTo(v, 4));
      Array.from(gb.dataSync()).forEach((v, i) => expect(ours.gradBias[i]).toBeCloseTo(v, 4));
      tf.dispose([gw, gb]);
    },
  );
});
