/**
 * FYD through the kit on a tiny category: the whole fit/predict on both engines (the same losses
 * and scores), the bundle read back scoring as the run did, the one-graph ONNX export (the
 * image-level transformer before the backbone) matching predict with ONNX's checker accepting
 * it, the ablation's "no alignment" row, and the image-level transformer actually aligning.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, type EngineSelection, selectEngine } from '@cfa/tensor-runtime';
import { areaPool, createSpatialTransformerParams, spatialTransformerTensors } from '@cfa/descriptor';
import { AdamW, affineGrid, gridSample } from '@cfa/tensor-runtime';
import { loadModel, runMethodOnCategory, saveModel } from '@cfa/method-kit';
import {
  categoryTestImages,
  exportParity,
  onnxChecker,
  predictedMapsError,
  tinyDiscCategory,
} from '@cfa/method-kit/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { FydConfigSchema } from './config';
import { fydMethod } from './fyd-method';
import { imageAlignmentStep } from './training-steps';

let root: string;
let ort: EngineSelection;
const config = FydConfigSchema.parse({
  view: { kind: 'center-crop', resize: 64, crop: 56 },
  imageAlignment: { epochs: 2, batchSize: 2, lossSize: 16 },
  transformer: { imagePool: 8, featurePool: 2, hidden: 8 },
  training: { epochs: 2, batchSize: 2 },
  adaptor: { dim: 8, predictorHidden: 4 },
  scoring: { sigma: 1 },
});

beforeAll(async () => {
  root = await tinyDiscCategory('fyd-method-', 3);
  ort = await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 1 });
});

describe('FYD through the kit', () => {
  it('ONNX Runtime and TensorFlow.js give the same losses and scores (1e-4)', async () => {
    const a = await runMethodOnCategory({ method: fydMethod, config, root, category: 'disc', engine: ort });
    const tfjs = await selectEngine({ requested: 'tfjs', tfBackend: 'wasm' });
    const b = await runMethodOnCategory({ method: fydMethod, config, root, category: 'disc', engine: tfjs });
    expect(a.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(Number.isFinite(a.history[0].imageLoss)).toBe(true);
    a.history.forEach((h, i) =>
      expect(Math.abs(b.history[i].loss - h.loss)).toBeLessThanOrEqual(1e-4 * Math.abs(h.loss)),
    );
    a.prediction.imageScores.forEach((s, i) =>
      expect(Math.abs(b.prediction.imageScores[i] - s)).toBeLessThanOrEqual(1e-4 * Math.abs(s)),
    );
    expect(a.prediction.size).toBe(56);
    expect(a.summary).toMatchObject({ dim: 8, positions: 14 * 14, bankBytes: 4 * 196 * (8 + 64) });
    expect(a.summary.withinPositionShare).toBeGreaterThan(0);
    expect(a.summary.withinPositionShare).toBeLessThan(1);
    expect(Math.abs(b.summary.withinPositionShare - a.summary.withinPositionShare)).toBeLessThan(1e-3);
  });

  it('the bundle scores new images as the run did (1e-6); the export matches predict (1e-4) and passes ONNX’s checker', async () => {
    const run = await runMethodOnCategory({ method: fydMethod, config, root, category: 'disc', engine: ort });
    const dir = join(await mkdtemp(join(tmpdir(), 'fyd-bundle-')), 'model');
    const manifest = await saveModel(dir, run.model);
    expect(manifest.method).toBe('fyd');
    const { model } = await loadModel(dir, { engine: ort, methods: [fydMethod] });
    const images = await categoryTestImages(root, 'disc');
    expect(await predictedMapsError(model, images, ort, run.prediction.maps)).toBeLessThanOrEqual(1e-6);

    const parity = await exportParity(model, images.slice(0, 3), ort);
    expect(parity.dims).toEqual([3, 56, 56]);
    expect(parity.mapsError).toBeLessThan(1e-4);
    expect(parity.scoresError).toBeLessThan(1e-4);
    const checked = await onnxChecker(parity.onnx.bytes);
    if (checked.skipped) console.warn(`ONNX checker skipped: ${checked.skipped}`);
    else expect(checked.checked).toMatch(/checked/);
  });

  it('"no alignment" trains nothing and keeps no transformer', async () => {
    const none = { ...config, alignment: { image: false, feature: false, fine: false } };
    const run = await runMethodOnCategory({ method: fydMethod, config: none, root, category: 'disc', engine: ort });
    expect(run.history).toEqual([]);
    const fitted = run.model.members[0].fitted;
    expect([fitted.imageStn, fitted.featureStns]).toEqual([undefined, undefined]);
    expect(fydMethod.describeConfig(none)).toBe('no alignment · D 8');
  });

  it('refuses a config with a batch of one, or an unknown alignment, naming the field', () => {
    const result = FydConfigSchema.safeParse({ training: { batchSize: 1 } });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0].path).toEqual(['training', 'batchSize']);
    const alignment = FydConfigSchema.safeParse({ alignment: 'fine-only' });
    expect(alignment.error!.issues[0]).toMatchObject({
      path: ['alignment'],
      message: expect.stringContaining('none, image, coarse, coarse+fine'),
    });
    expect(FydConfigSchema.parse({ alignment: 'image' }).alignment).toEqual({
      image: true,
      feature: false,
      fine: false,
    });
  });
});

describe('the image-level transformer aligns', () => {
  it('on shifted and turned copies of one image the pairwise loss falls by more than a third', () => {
    // one smooth random image, seen at 12 poses: what the transformer should undo
    const size = 32,
      n = 12;
    const rng = createRng(7);
    const base = new Float32Array(size * size * 3);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        for (let c = 0; c < 3; c++)
          base[(y * size + x) * 3 + c] = Math.exp(-(((x - 16) / 6) ** 2) - ((y - 12) / 4) ** 2) * (1 + c) - 0.5;
    const theta = new Float32Array(n * 6);
    for (let i = 0; i < n; i++) {
      const a = rng.uniform(-0.3, 0.3);
      theta.set(
        [Math.cos(a), -Math.sin(a), rng.uniform(-0.15, 0.15), Math.sin(a), Math.cos(a), rng.uniform(-0.15, 0.15)],
        i * 6,
      );
    }
    const images = gridSample({
      input: Float32Array.from({ length: n * base.length }, (_, i) => base[i % base.length]),
      inputShape: [n, size, size, 3],
      grid: affineGrid({ theta, count: n, height: size, width: size }),
      gridShape: [n, size, size],
    });
    const shape = [n, size, size, 3] as const;
    const batch = {
      count: n,
      pooled: areaPool({ x: images, shape, size: 8 }),
      small: areaPool({ x: images, shape, size: 16 }),
      size: 16,
    };
    const params = createSpatialTransformerParams({ inChannels: 3, pool: 8, hidden: 16, seed: 0 });
    const bounds = { maxShift: 0.3, maxLogScale: 0.1, rotation: true };
    const optimizer = new AdamW(spatialTransformerTensors(params), { lr: 3e-3, weightDecay: 0, amsgrad: false });
    const first = imageAlignmentStep({ batch, params, bounds }).loss;
    let last = first;
    for (let step = 0; step < 300; step++) {
      const s = imageAlignmentStep({ batch, params, bounds });
      optimizer.step(s.grads);
      last = s.loss;
    }
    expect(last, `loss ${first} → ${last}`).toBeLessThan((2 / 3) * first);
  });
});
