import * as tf from '@tensorflow/tfjs-core';
import { createRng, selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildBackboneModel } from '../backbone-model';
import { resnet18Definition, wideResnet50Definition } from '../architectures/resnet';
import { vgg19BnDefinition } from '../architectures/vgg';
import { efficientNetB5Definition } from '../architectures/efficientnet';
import { randomInitWeights } from '../weights/random-init';
import type { StateDict } from '../weights/state-dict';
import { createOrtBackboneRunner } from './ort-runner';
import { createTfBackboneRunner } from './tf-runner';

/** Non-trivial BatchNorm statistics, so that fusion is really exercised. */
function withRandomBatchNorm(weights: StateDict, seed: number): StateDict {
  const rng = createRng(seed);
  for (const [name, w] of weights) {
    if (name.endsWith('running_var')) w.data.forEach((_, i) => (w.data[i] = 0.5 + rng.next()));
    else if (name.endsWith('running_mean') || (w.shape.length === 1 && name.endsWith('.bias')))
      w.data.forEach((_, i) => (w.data[i] = 0.2 * rng.normal()));
    else if (w.shape.length === 1 && name.endsWith('.weight'))
      w.data.forEach((_, i) => (w.data[i] = 1 + 0.2 * rng.normal()));
  }
  return weights;
}

function randomImages(n: number, size: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n * size * size * 3 }, () => rng.normal());
}

beforeAll(async () => {
  await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 2 });
});

describe.each([
  ['resnet18 (width/4)', resnet18Definition({ widthDivisor: 4 })],
  ['wide_resnet50_2 (width/16)', wideResnet50Definition({ widthDivisor: 16 })],
  ['vgg19_bn (width/16)', vgg19BnDefinition({ widthDivisor: 16 })],
  ['efficientnet_b5 (width×0.4)', efficientNetB5Definition({ widthMult: 0.4 })],
])('%s x=[2,64,64,3]', (_label, def) => {
  const model = buildBackboneModel(def, withRandomBatchNorm(randomInitWeights(def, 5), 6), {
    kind: 'random',
    seed: 5,
    id: 'test',
  });
  const images = randomImages(2, 64, 7);

  it('BatchNorm fused into the convs gives the same features as conv → BatchNorm', () => {
    const fused = createTfBackboneRunner(model, { fuseBatchNorm: true });
    const unfused = createTfBackboneRunner(model, { fuseBatchNorm: false });
    const x = tf.tensor4d(images, [2, 64, 64, 3]);
    const a = fused.forward(x);
    const b = unfused.forward(x);
    expect(a.map((t) => t.shape)).toEqual(b.map((t) => t.shape));
    a.forEach((t, i) =>
      expect(maxRelativeError(t.dataSync() as Float32Array, b[i].dataSync() as Float32Array)).toBeLessThan(1e-4),
    );
    [x, ...a, ...b].forEach((t) => t.dispose());
    fused.dispose();
    unfused.dispose();
  });

  it('ONNX Runtime and TensorFlow.js agree to 1e-4 relative on every feature map', async () => {
    const engine = await selectEngine({ requested: 'ort', threads: 2 });
    const ortRunner = await createOrtBackboneRunner(engine, model, 64);
    const tfRunner = createTfBackboneRunner(model);
    const before = tf.memory().numTensors;
    const x = tf.tensor4d(images, [2, 64, 64, 3]);
    const tfMaps = tfRunner.forward(x);
    const ortMaps = await ortRunner.forward(images, 2);
    tfMaps.forEach((t, i) => {
      expect(ortMaps[i].dims).toEqual(t.shape);
      expect(maxRelativeError(ortMaps[i].data, t.dataSync() as Float32Array)).toBeLessThan(1e-4);
    });
    [x, ...tfMaps].forEach((t) => t.dispose());
    expect(tf.memory().numTensors).toBe(before);
    tfRunner.dispose();
    await ortRunner.release();
  });
});

describe('createTfBackboneRunner', () => {
  it('checks the input shape at the boundary', () => {
    const model = buildBackboneModel(
      resnet18Definition({ widthDivisor: 8 }),
      randomInitWeights(resnet18Definition({ widthDivisor: 8 }), 0),
      { kind: 'random', seed: 0, id: 't' },
    );
    const runner = createTfBackboneRunner(model);
    const x = tf.zeros([1, 32, 32, 1]) as tf.Tensor4D;
    expect(() => runner.forward(x)).toThrow(
      /Error in resnet18\.forward: images must have shape \[N, \*, \*, 3\], got \[1, 32, 32, 1\]/,
    );
    x.dispose();
    runner.dispose();
  });
});
