import * as tf from '@tensorflow/tfjs-core';
import { createRng, selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { describe, expect, it } from 'vitest';
import { buildBackboneModel } from '../backbone-model';
import { resnet18Definition } from '../architectures/resnet';
import { randomInitWeights } from '../weights/random-init';
import { createBackboneRunner } from './backbone-runner';

const def = resnet18Definition({ widthDivisor: 8 });
const model = buildBackboneModel(def, randomInitWeights(def, 3), { kind: 'random', seed: 3, id: 'runner-test' });
const rng = createRng(4);
const images = Float32Array.from({ length: 2 * 32 * 32 * 3 }, () => rng.normal());

describe('createBackboneRunner x=[2,32,32,3] (resnet18 width/8)', () => {
  it('gives the same feature maps on ONNX Runtime and TensorFlow.js, tfjs leaving no tensor behind', async () => {
    const maps = [];
    for (const requested of ['ort', 'tfjs'] as const) {
      const engine = await selectEngine({ requested, tfBackend: 'wasm', threads: 2 });
      const runner = await createBackboneRunner({ engine, model, inputSize: 32 });
      expect(runner.engine).toBe(requested);
      const before = tf.memory().numTensors;
      maps.push(await runner.forward(images, 2));
      expect(tf.memory().numTensors).toBe(before);
      await runner.release();
    }
    const [ort, tfjs] = maps;
    expect(ort.map((m) => m.dims)).toEqual([
      [2, 8, 8, 8],
      [2, 4, 4, 16],
      [2, 2, 2, 32],
    ]);
    expect(tfjs.map((m) => m.dims)).toEqual(ort.map((m) => m.dims));
    ort.forEach((m, i) => expect(maxRelativeError(tfjs[i].data, m.data), `map ${i}`).toBeLessThan(1e-4));
  });

  it.each(['ort', 'tfjs'] as const)('on %s names the images it expected', async (requested) => {
    const engine = await selectEngine({ requested, tfBackend: 'wasm', threads: 2 });
    const runner = await createBackboneRunner({ engine, model, inputSize: 32 });
    await expect(runner.forward(images, 3)).rejects.toThrow(
      /images must hold \[3, 32, 32, 3\] = 9216 values, got 6144/,
    );
    await runner.release();
  });
});
