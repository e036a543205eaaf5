/**
 * The whole fit/predict on both engines: the same learned radius, loss and metrics up to float
 * rounding, and no TensorFlow.js tensor leaked across epochs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectEngine } from '@cfa/tensor-runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { CfaConfigSchema } from './config';
import { runCfaOnCategory } from './run-cfa';
import { tinyDiscCategory } from '@cfa/method-kit/testing';

let root: string;
beforeAll(async () => {
  root = await tinyDiscCategory('cfa-fit-', 4);
});

const config = CfaConfigSchema.parse({
  view: { kind: 'center-crop', resize: 64, crop: 56 },
  training: { epochs: 3 },
  memoryBank: { gammaC: 2 },
  descriptor: { gammaD: 2 },
  scoring: { sigma: 1 },
});

describe('fit + predict', () => {
  it('ONNX Runtime and TensorFlow.js give the same radius, losses and scores (1e-4); tfjs leaks no tensor across epochs', async () => {
    const ort = await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 1 });
    const a = await runCfaOnCategory({ config, root, category: 'disc', engine: ort });
    const tfjs = await selectEngine({ requested: 'tfjs', tfBackend: 'wasm' });
    const counts: number[] = [];
    const b = await runCfaOnCategory({
      config,
      root,
      category: 'disc',
      engine: tfjs,
      onEpoch: () => counts.push(tf.memory().numTensors),
    });
    expect(counts).toHaveLength(3);
    expect(new Set(counts).size, `tensors after each epoch: ${counts}`).toBe(1);
    expect(b.history).toHaveLength(a.history.length);
    a.history.forEach((h, i) =>
      expect(Math.abs(b.history[i].loss - h.loss), `epoch ${i} loss`).toBeLessThanOrEqual(
        Math.max(1e-4 * Math.abs(h.loss), 1e-6),
      ),
    );
    expect(Math.abs(b.summary.radius - a.summary.radius)).toBeLessThanOrEqual(1e-4 * Math.abs(a.summary.radius));
    const scoresA = a.prediction.imageScores,
      scoresB = b.prediction.imageScores;
    scoresA.forEach((s, i) => expect(Math.abs(scoresB[i] - s)).toBeLessThanOrEqual(1e-4 * Math.abs(s)));
    expect(a.summary.radius).toBeGreaterThan(config.training.r0); // r is learned
    expect(a.summary.bankSize).toBe(Math.floor((14 * 14) / 2));
  });

  it('skips training for the "none" ablation', async () => {
    const engine = await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 1 });
    const none = await runCfaOnCategory({
      config: { ...config, loss: { ...config.loss, terms: 'none' } },
      root,
      category: 'disc',
      engine,
    });
    expect(none.history).toEqual([]);
    expect(none.summary.radius).toBe(config.training.r0);
  });
});
