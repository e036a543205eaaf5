/**
 * CRAD through the kit on a tiny category (64 px resize, one bottleneck of expansion 16, one
 * epoch): a run trains on ONNX Runtime and keeps its history; the bundle reads back and scores as
 * the run did; the one-graph ONNX export matches predict (1e-4) and ONNX's checker accepts it.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImage, indexCategory } from '@cfa/data';
import { createImagePredictor, loadModel, runMethodOnCategory, saveModel } from '@cfa/method-kit';
import { exportParity, onnxChecker, tinyDiscCategory } from '@cfa/method-kit/testing';
import { type EngineSelection, selectEngine } from '@cfa/tensor-runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { CradConfigSchema } from './config';
import { cradMethod } from './crad-method';

let root: string;
let engine: EngineSelection;
const config = CradConfigSchema.parse({
  // the random-init BatchNorm calibration is the backbone's business (and its specs'): skipped here
  backbone: { calibrateBatchNorm: false },
  view: { kind: 'resize', size: 64 },
  decoder: { layers: 1, expansion: 16 },
  training: { epochs: 1, batchSize: 2 },
  scoring: { smoothing: 3, imagePool: 8 },
});

beforeAll(async () => {
  root = await tinyDiscCategory('crad-method-', 2);
  engine = await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 1 });
});

describe('CRAD through the kit', () => {
  it('trains, saves a bundle that scores as the run did, and exports one graph that matches predict', async () => {
    const run = await runMethodOnCategory({ method: cradMethod, config, root, category: 'disc', engine });
    expect(run.history.map((h) => h.epoch)).toEqual([1]);
    expect(Number.isFinite(run.history[0].loss)).toBe(true);
    expect(run.prediction.size).toBe(64);
    const dir = join(await mkdtemp(join(tmpdir(), 'crad-bundle-')), 'model');
    await saveModel(dir, run.model);
    const { model } = await loadModel(dir, { engine, methods: [cradMethod] as never });
    const index = await indexCategory({ root, category: 'disc' });
    const images = await Promise.all(
      index.test.map(async (r) => ({ id: r.id, image: await decodeImage(r.imagePath) })),
    );
    const predictor = await createImagePredictor(model, engine);
    const out = await predictor.predict(images);
    await predictor.release();
    let worst = 0;
    out.maps.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - run.prediction.maps[i]))));
    expect(worst).toBeLessThanOrEqual(1e-4);
    const parity = await exportParity(run.model, images.slice(0, 2), engine);
    expect(parity.mapsError).toBeLessThanOrEqual(1e-4);
    expect(parity.scoresError).toBeLessThanOrEqual(1e-4);
    const check = await onnxChecker(parity.onnx.bytes);
    if (check.skipped) console.log(`skipped ONNX's checker: ${check.skipped}`);
    else expect(check.checked).toMatch(/^checked \d+/);
  }, 180_000);
});
