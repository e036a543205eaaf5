/**
 * CRAD against the CRAD reference code's own `CRAD` module (tools/torch-reference/crad_fixtures.py
 * imports `models/reconstructions/crad.py` from the official snapshot): the reference architecture
 * at full width (C = 216: its own 432-wide bottlenecks) and a narrow model (C = 8, patch 3 of
 * crad_code.py), with seeded lively parameters and features. Checked within 1e-4 relative:
 *
 * - eval mode on TensorFlow.js: both coordinate predictors, the memory read, the reconstruction,
 *   the blend, the distances and the ×8 upsampled map; on ONNX Runtime: the distances;
 * - the training forward on TensorFlow.js with the module's own noise draws; one training step on
 *   both engines (TensorFlow.js: autograd; ONNX Runtime: the backward pass written out as one
 *   graph): FeatureMSELoss, every parameter's gradient (the full-width model's large ones by their
 *   norms), the BatchNorm running statistics; then clip_grad_norm_ and AdamW with the two learning
 *   rates: the norm before clipping and every parameter after the step; StepLR as `train_val.py`
 *   steps it.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { decodeSafetensors, type StateDict } from '@cfa/backbone';
import { parityInputsDigest } from '@cfa/descriptor/testing';
import { reconstructionMaps } from '@cfa/scoring';
import { selectEngine, stepLrFactor } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { CradConfigSchema } from './config';
import { cradForwardTf } from './crad-forward';
import { createCradScorer } from './crad-scorer';
import type { FittedCrad } from './fit';
import { stateTensors } from './state-tensors';
import { cradParityInputs } from './testing/parity-inputs';
import { createOrtCradTrainStep } from './ort-train-step';
import { cradTrainStep, createCradOptimizer, type TrainStepResult } from './train-step';

beforeAll(async () => {
  await selectEngine({ requested: 'tfjs', tfBackend: 'wasm' });
});

function fixture(name: 'full' | 'narrow') {
  const path = new URL(`./__fixtures__/crad.${name}.safetensors`, import.meta.url);
  const { tensors, metadata } = decodeSafetensors(readFileSync(path), path.pathname);
  const s = JSON.parse(metadata.settings);
  const inputs = cradParityInputs(s);
  const state: StateDict = new Map(
    [...inputs]
      .filter(([k]) => k.startsWith('crad.'))
      .map(([k, v]) => [k.slice(5), { shape: v.shape, data: Float32Array.from(v.data) }]),
  );
  const config = CradConfigSchema.parse({
    memory: { localResolution: s.localResolution, globalResolution: s.globalResolution },
    decoder: { layers: s.layers, expansion: s.expansion },
    scoring: { mseLambda: s.blend.mse_lamb, cosLambda: s.blend.cos_lamb, mseCoef: s.blend.mse_coef },
    training: s.training,
  });
  const expected = (k: string) => {
    const t = tensors.get(k);
    if (!t) throw new Error(`crad.${name} fixture has no ${k}`);
    return t.data;
  };
  return { s, inputs, metadata, tensors, state, config, expected, features: inputs.get('features')!.data };
}

describe.each(['full', 'narrow'] as const)('CRAD (%s) against the reference module', (name) => {
  const { s, inputs, metadata, tensors, state, config, expected, features } = fixture(name);
  const grid = { channels: s.channels, height: s.height, width: s.width };
  const batch = s.batch;

  it('regenerates exactly the inputs the fixture was computed from', () => {
    expect(parityInputsDigest(inputs)).toBe(metadata.inputsSha256);
  });

  it('eval mode on TensorFlow.js: coordinates, memory read, reconstruction, blend, distances, map', async () => {
    const before = tf.memory().numTensors;
    const params = stateTensors(state);
    const out = tf.tidy(() => {
      const o = cradForwardTf(params, tf.tensor4d(features, [batch, grid.height, grid.width, grid.channels]), {
        training: false,
        blend: config.scoring,
      });
      return [o.globalCoords, o.localCoords, o.memory, o.reconstruction, o.blended, o.distances] as tf.Tensor[];
    });
    const names = ['globalCoords', 'localCoords', 'memory', 'reconstruction', 'blended', 'distances'];
    for (const [i, key] of names.entries())
      expect(maxRelativeError(await out[i].data(), expected(`eval.${key}`)), key).toBeLessThan(1e-4);
    const distances = (await out[5].data()) as Float32Array;
    const up = reconstructionMaps({
      distances,
      count: batch,
      height: grid.height,
      width: grid.width,
      outputSize: 8 * grid.height,
      smoothing: 1,
    });
    expect(maxRelativeError(up, expected('eval.pred')), 'pred (×8 upsampled)').toBeLessThan(1e-4);
    tf.dispose([...out, ...params.values()]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('eval mode on ONNX Runtime (the lowered graph): distances', async () => {
    const engine = await selectEngine({ requested: 'ort', threads: 2 });
    const model: FittedCrad = {
      config,
      engine,
      state,
      grid,
      history: [],
      timings: { bankSeconds: 0, trainSeconds: 0 },
    };
    const scorer = await createCradScorer(model);
    const d = await scorer.distances(features, batch);
    await scorer.release();
    expect(maxRelativeError(d, expected('eval.distances'))).toBeLessThan(1e-4);
  });

  it("the training forward on TensorFlow.js (train-mode BatchNorm, the module's noise)", async () => {
    const noise = expected('train.noise');
    const params = stateTensors(state);
    const forward = tf.tidy(() => {
      const o = cradForwardTf(params, tf.tensor4d(features, [batch, grid.height, grid.width, grid.channels]), {
        training: true,
        noise: tf.tensor4d(noise, [batch, grid.height, grid.width, 2]),
        blend: config.scoring,
      });
      for (const st of o.batchStatistics.values()) tf.dispose([st.mean, st.variance]);
      return [o.blended, o.distances];
    });
    expect(maxRelativeError(await forward[0].data(), expected('train.blended')), 'train blended').toBeLessThan(1e-4);
    expect(maxRelativeError(await forward[1].data(), expected('train.distances')), 'train distances').toBeLessThan(
      1e-4,
    );
    tf.dispose([...forward, ...params.values()]);
  });

  it.each(['tfjs', 'ort'] as const)(
    'one training step on %s: loss, gradients, running statistics, clipped AdamW step, StepLR',
    async (engineName) => {
      const trained: StateDict = new Map(
        [...state].map(([k, v]) => [k, { shape: v.shape, data: Float32Array.from(v.data) }]),
      );
      const noise = expected('train.noise');
      const before = tf.memory().numTensors;
      let step: TrainStepResult;
      if (engineName === 'tfjs') {
        step = await cradTrainStep({ state: trained, features, batch, grid, blend: config.scoring, noise });
      } else {
        const engine = await selectEngine({ requested: 'ort', threads: 2 });
        const trainer = await createOrtCradTrainStep({
          engine,
          state: trained,
          grid,
          blend: config.scoring,
          memory: config.memory,
        });
        step = await trainer.step({ features, batch, noise });
        await trainer.release();
      }
      expect(tf.memory().numTensors).toBe(before);
      expect(Math.abs(step.loss - expected('train.loss')[0]) / expected('train.loss')[0]).toBeLessThan(1e-4);
      const norms: Record<string, number> = s.gradNorms;
      expect(new Set(step.grads.keys())).toEqual(new Set(Object.keys(norms)));
      for (const [k, g] of step.grads) {
        const norm = Math.hypot(...g);
        expect(Math.abs(norm - norms[k]) / Math.max(norms[k], 1e-12), `‖grad ${k}‖`).toBeLessThan(1e-4);
        if (tensors.has(`grad.${k}`))
          expect(maxRelativeError(g, expected(`grad.${k}`)), `grad ${k}`).toBeLessThan(1e-4);
      }
      for (const [k, v] of trained)
        if (k.includes('running_'))
          expect(maxRelativeError(v.data, expected(`train.state.${k}`)), k).toBeLessThan(1e-4);

      const optimizer = createCradOptimizer(trained, config.training);
      const total = optimizer.step(step.grads, 0);
      expect(Math.abs(total - expected('step.gradNorm')[0]) / expected('step.gradNorm')[0]).toBeLessThan(1e-4);
      if (name === 'narrow')
        for (const k of step.grads.keys())
          expect(maxRelativeError(trained.get(k)!.data, expected(`step.${k}`)), `after step: ${k}`).toBeLessThan(1e-4);

      const lrs = expected('schedule.lrs');
      for (let epoch = 0; epoch < lrs.length / 2; epoch++) {
        const factor = stepLrFactor({ epoch, stepSize: 2, gamma: 0.1 });
        // the fixture stores float32
        expect(Math.abs(factor * config.training.netLr - lrs[2 * epoch]) / lrs[2 * epoch]).toBeLessThan(1e-6);
        expect(Math.abs(factor * config.training.gridLr - lrs[2 * epoch + 1]) / lrs[2 * epoch + 1]).toBeLessThan(1e-6);
      }
    },
  );
});
