/**
 * The kit with a method that is not CFA (`positionMeanMethod`, testing/): a run on a category, its
 * two-view ensemble, thresholds from held-out images, the bundle saved and read back scoring new
 * images as the run scored its test set, refusal of a bundle of a method the reader does not know,
 * and the one-graph ONNX export matching `createImagePredictor`.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EngineSelection, selectEngine } from '@cfa/tensor-runtime';
import { decodeImage, indexCategory } from '@cfa/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { createImagePredictor } from './predict-images';
import { loadModel, saveModel } from './model-bundle';
import { runMethodOnCategory } from './run-category';
import { exportParity, onnxChecker, positionMeanMethod, tinyDiscCategory } from './testing';

let root: string;
let engine: EngineSelection;
const config = positionMeanMethod.configSchema.parse({
  view: { kind: 'center-crop', resize: 64, crop: 56 },
  calibration: { holdout: 0.25 },
});

beforeAll(async () => {
  root = await tinyDiscCategory('kit-position-mean-', 3);
  engine = await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 1 });
});

describe('a second method through the kit', () => {
  it('runs a category: maps on the view’s grid, thresholds from the held-out image, no epochs', async () => {
    const run = await runMethodOnCategory({ method: positionMeanMethod, config, root, category: 'disc', engine });
    expect(run.prediction.size).toBe(56);
    expect(run.prediction.maps.length).toBe(run.test.length * 56 * 56);
    expect([run.trainCount, run.calibrationCount]).toEqual([3, 1]);
    expect(run.thresholds).toMatchObject({ holdoutImages: 1, method: 'holdout-quantile' });
    expect(run.history).toEqual([]);
    expect(run.summary.bankBytes).toBe(
      4 * run.testEmbeddings.height * run.testEmbeddings.width * run.testEmbeddings.channels,
    );
    // the image score is its map's maximum
    run.prediction.imageScores.forEach((score, i) =>
      expect(score).toBe(Math.max(...run.prediction.maps.subarray(i * 56 * 56, (i + 1) * 56 * 56))),
    );
  });

  it('the bundle reads back and scores the test images as the run did (1e-6); a reader without the method refuses it', async () => {
    const run = await runMethodOnCategory({ method: positionMeanMethod, config, root, category: 'disc', engine });
    const dir = join(await mkdtemp(join(tmpdir(), 'kit-bundle-')), 'model');
    const manifest = await saveModel(dir, run.model);
    expect(manifest).toMatchObject({ formatVersion: 2, method: 'position-mean', members: [{ role: 'primary' }] });
    const { model } = await loadModel(dir, { engine, methods: [positionMeanMethod] });
    const index = await indexCategory({ root, category: 'disc' });
    const images = await Promise.all(
      index.test.map(async (r) => ({ id: r.id, image: await decodeImage(r.imagePath) })),
    );
    const predictor = await createImagePredictor(model, engine);
    const out = await predictor.predict(images);
    await predictor.release();
    let worst = 0;
    out.maps.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - run.prediction.maps[i]))));
    expect(worst).toBeLessThanOrEqual(1e-6);
    await expect(loadModel(dir, { engine, methods: [] as never })).rejects.toThrow(
      /manifest\.json: method 'position-mean' is not one this toolkit knows/,
    );
  });

  it('the two-view ensemble and its one-graph ONNX export match predict (1e-4), and ONNX’s checker accepts it', async () => {
    const run = await runMethodOnCategory({
      method: positionMeanMethod,
      config: { ...config, ensemble: 'cfa++' },
      root,
      category: 'disc',
      engine,
    });
    expect(run.ensemble?.views).toEqual(['center-crop:64:56', 'resize:56']);
    const index = await indexCategory({ root, category: 'disc' });
    const images = await Promise.all(
      index.test.slice(0, 3).map(async (r) => ({ id: r.id, image: await decodeImage(r.imagePath) })),
    );
    const parity = await exportParity(run.model, images, engine);
    expect(parity.dims).toEqual([3, 56, 56]);
    expect(parity.mapsError).toBeLessThanOrEqual(1e-4);
    expect(parity.scoresError).toBeLessThanOrEqual(1e-4);
    expect(parity.onnx.inputs.map((i) => i.name)).toEqual(['image', 'companion_image']);
    const check = await onnxChecker(parity.onnx.bytes);
    if (check.skipped) console.log(`skipped ONNX's checker: ${check.skipped}`);
    else expect(check.checked).toMatch(/^checked \d+/);
  });
});
