import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients by itself; autograd here is the independent check of the closed form
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { createRng, selectEngine } from '@cfa/tensor-runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  coordConvWeightFromTorch,
  coordConvWeightToTorch,
  coordinateChannels,
  createCoordConvParams,
} from './coord-conv';
import { createDescriptorRunner, descriptorForwardTf } from './descriptor-forward';

beforeAll(async () => {
  await selectEngine({ requested: 'tfjs', tfBackend: 'wasm' });
});

describe('coordinateChannels', () => {
  it('3×2 grid: channel 0 is the row scaled to [-1,1], channel 1 the column (reference AddCoords)', () => {
    expect(Array.from(coordinateChannels(3, 2))).toEqual([-1, -1, -1, 1, 0, -1, 0, 1, 1, -1, 1, 1]);
  });

  it('adds the radius channel √((x−.5)²+(y−.5)²) when asked', () => {
    const c = coordinateChannels(2, 2, true);
    expect(c[2]).toBeCloseTo(Math.sqrt(1.5 ** 2 + 1.5 ** 2), 6);
    expect(c[11]).toBeCloseTo(Math.sqrt(0.5 ** 2 + 0.5 ** 2), 6);
  });
});

describe('createCoordConvParams', () => {
  it('D=448, γd=4 → D′=112 with (448+2)×112 He-normal weights (std √(2/450)) and zero bias', () => {
    const p = createCoordConvParams({ inChannels: 448, gammaD: 4, seed: 0 });
    expect(p.outChannels).toBe(112);
    expect(p.weight.length).toBe(450 * 112);
    const std = Math.sqrt(p.weight.reduce((s, v) => s + v * v, 0) / p.weight.length);
    expect(std).toBeCloseTo(Math.sqrt(2 / 450), 2);
    expect(p.bias.every((v) => v === 0)).toBe(true);
  });

  it("'torch-default' draws U(±1/√fan_in) for weights and bias", () => {
    const p = createCoordConvParams({ inChannels: 62, gammaD: 1, init: 'torch-default', seed: 0 });
    const bound = 1 / 8;
    expect(Math.max(...p.weight.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...p.bias.map(Math.abs))).toBeGreaterThan(0);
  });

  it('is seeded, doubles outputs with outMultiplier 2, and refuses γd < 1', () => {
    expect(createCoordConvParams({ inChannels: 8, gammaD: 1, seed: 3 }).weight).toEqual(
      createCoordConvParams({ inChannels: 8, gammaD: 1, seed: 3 }).weight,
    );
    expect(createCoordConvParams({ inChannels: 568, gammaD: 2, outMultiplier: 2, seed: 0 }).outChannels).toBe(568);
    expect(() => createCoordConvParams({ inChannels: 8, gammaD: 0.5, seed: 0 })).toThrow(/gammaD must be ≥ 1, got 0.5/);
  });

  it('converts to PyTorch Conv2d layout [Dout, Din, 1, 1] and back', () => {
    const p = createCoordConvParams({ inChannels: 5, gammaD: 1, seed: 1 });
    const torch = coordConvWeightToTorch(p);
    expect(torch[2 * 7 + 3]).toBe(p.weight[3 * 5 + 2]); // out 2, in 3
    expect(coordConvWeightFromTorch(torch, 7, 5)).toEqual(p.weight);
  });
});

describe('descriptor forward', () => {
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

  it('descriptorForwardTf checks shapes at the boundary', () => {
    const xs = tf.zeros([1, 5, 6]) as tf.Tensor3D;
    const weight = tf.zeros([8, 3]) as tf.Tensor2D;
    const bias = tf.zeros([3]) as tf.Tensor1D;
    const coords = tf.zeros([4, 2]) as tf.Tensor2D;
    expect(() => descriptorForwardTf({ x: xs, weight, bias, coords })).toThrow(
      /coords must have shape \[HW, C\], got \[4, 2\] \(dimension 0 \(HW\) is 4, but HW = 5 elsewhere\)/,
    );
    tf.dispose([xs, weight, bias, coords]);
  });
});

describe('createDescriptorGradient', () => {
  it.each(['ort', 'tfjs'] as const)(
    'on %s equals TensorFlow.js autograd of Σ φ·G through descriptorForwardTf (x=[2,6,5], radius)',
    async (engineName) => {
      const { createDescriptorGradient } = await import('./descriptor-gradient');
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
