import * as tf from '@tensorflow/tfjs-core';
import { createRng, selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { buildBackboneModel, randomInitWeights, resnet18Definition } from '@cfa/backbone';
import { describe, expect, it } from 'vitest';
import { createPatchEmbedder } from './patch-embedding-runner';

describe('createPatchEmbedder', () => {
  it('ONNX Runtime (backbone + embedding in one graph) and TensorFlow.js agree to 1e-4, resnet18/4 at 64×64', async () => {
    const def = resnet18Definition({ widthDivisor: 4 });
    const backbone = buildBackboneModel(def, randomInitWeights(def, 1), { kind: 'random', seed: 1, id: 't' });
    const rng = createRng(2);
    const images = Float32Array.from({ length: 3 * 64 * 64 * 3 }, () => rng.normal());
    const ortEngine = await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 2 });
    const tfEngine = await selectEngine({ requested: 'tfjs', tfBackend: 'wasm' });
    const viaOrt = await createPatchEmbedder({ engine: ortEngine, backbone, inputSize: 64 });
    const viaTf = await createPatchEmbedder({ engine: tfEngine, backbone, inputSize: 64 });
    expect([viaOrt.height, viaOrt.width, viaOrt.channels]).toEqual([16, 16, 16 + 32 + 64]);
    const before = tf.memory().numTensors;
    const a = await viaOrt.embed(images, 3);
    const b = await viaTf.embed(images, 3);
    expect(tf.memory().numTensors).toBe(before);
    expect(a.length).toBe(3 * 16 * 16 * 112);
    expect(maxRelativeError(a, b)).toBeLessThan(1e-4);
    await expect(viaOrt.embed(images, 2)).rejects.toThrow(/images must hold \[2, 64, 64, 3\]/);
    await viaOrt.release();
    await viaTf.release();
  });
});
