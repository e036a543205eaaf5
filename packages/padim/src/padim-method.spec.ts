/**
 * PaDiM through the kit on a tiny synthetic category: a run on both engines (the same maps), the
 * Gaussians against the train features, thresholds from a held-out image, the bundle read back
 * scoring as the run did, a damaged bundle refused, the one-graph ONNX export (ONNX's checker,
 * ORT parity with predict), and the config's refusals before any work.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EngineSelection, selectEngine } from '@cfa/tensor-runtime';
import { nearestEmbedding } from '@cfa/descriptor';
import { type CategoryRun, loadModel, MODEL_MANIFEST_FILE, runMethodOnCategory, saveModel } from '@cfa/method-kit';
import {
  categoryTestImages,
  exportParity,
  onnxChecker,
  predictedMapsError,
  tinyDiscCategory,
} from '@cfa/method-kit/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { type PadimConfig, PadimConfigSchema } from './config';
import type { FittedPadim } from './fit';
import { assertGaussiansFit, padimMethod } from './padim-method';

let root: string;
let ort: EngineSelection;
let run: CategoryRun<PadimConfig, FittedPadim>;
// 64 px: layer1..3 on 16, 8 and 4 cells, the whole ratios the reference's embedding_concat needs
const config = PadimConfigSchema.parse({
  method: 'padim',
  view: { kind: 'center-crop', resize: 64, crop: 64 },
  dimensions: 24,
  calibration: { holdout: 0.25 },
});

beforeAll(async () => {
  root = await tinyDiscCategory('padim-method-', 3);
  ort = await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 1 });
  run = await runMethodOnCategory({ method: padimMethod, config, root, category: 'disc', engine: ort });
});

describe('padimMethod through the kit', () => {
  it('fits a Gaussian per position over the train embeddings: no epochs, the sizes in the summary', async () => {
    expect(run.history).toEqual([]);
    expect([run.trainCount, run.calibrationCount]).toEqual([3, 1]);
    const { gaussians, channels, height, width } = run.model.members[0].fitted;
    expect([height, width, channels.length, gaussians.count]).toEqual([16, 16, 24, 3]);
    expect(run.summary).toMatchObject({ bankSize: 256, dimensions: 24, bankBytes: 4 * 256 * (24 + 24 * 24) });
    expect(run.thresholds).toMatchObject({ holdoutImages: 1, method: 'holdout-quantile' });
    // the map's maximum is the image score; maps are finite and non-negative
    const S = 64 * 64;
    run.prediction.imageScores.forEach((s, i) => {
      const map = run.prediction.maps.subarray(i * S, (i + 1) * S);
      expect(s).toBe(Math.max(...map));
      expect(Math.min(...map)).toBeGreaterThanOrEqual(0);
    });
    // the Mahalanobis distance of a test patch, recomputed from the fitted Gaussian in float64
    const pyramid = await run.testEmbeddings.pyramid(0);
    const x = nearestEmbedding({ pyramid, levels: run.testEmbeddings.levels, channels });
    const p = 37,
      d = 24;
    let q = 0;
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++)
        q +=
          (x[p * d + i] - gaussians.mean[p * d + i]) *
          gaussians.inverse[p * d * d + i * d + j] *
          (x[p * d + j] - gaussians.mean[p * d + j]);
    expect(run.prediction.patchScores[p]).toBeCloseTo(Math.sqrt(q), 3);
  });

  it('TensorFlow.js gives the same maps as ONNX Runtime (1e-4 of the scale)', async () => {
    const tfjs = await selectEngine({ requested: 'tfjs', tfBackend: 'wasm', threads: 1 });
    const other = await runMethodOnCategory({ method: padimMethod, config, root, category: 'disc', engine: tfjs });
    let worst = 0,
      scale = 0;
    other.prediction.maps.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - run.prediction.maps[i]));
      scale = Math.max(scale, Math.abs(run.prediction.maps[i]));
    });
    expect(worst / scale).toBeLessThan(1e-4);
  });

  it('the bundle reads back and scores the test images as the run did (1e-6); a bad channel list is refused', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'padim-bundle-')), 'model');
    const manifest = await saveModel(dir, run.model);
    expect(manifest).toMatchObject({ formatVersion: 2, method: 'padim' });
    const { model } = await loadModel(dir, { engine: ort, methods: [padimMethod] });
    const images = await categoryTestImages(root, 'disc');
    expect(await predictedMapsError(model, images, ort, run.prediction.maps)).toBeLessThanOrEqual(1e-6);

    const m = JSON.parse(await readFile(join(dir, MODEL_MANIFEST_FILE), 'utf8'));
    m.members[0].channels[0] = 448;
    await writeFile(join(dir, MODEL_MANIFEST_FILE), JSON.stringify(m));
    await expect(loadModel(dir, { engine: ort, methods: [padimMethod] })).rejects.toThrow(
      /channel 448 is outside the embedding's 448 channels/,
    );
  });

  it('the one-graph ONNX export matches predict (1e-4) and ONNX’s checker accepts it', async () => {
    const images = (await categoryTestImages(root, 'disc')).slice(0, 2);
    const parity = await exportParity(run.model, images, ort);
    expect(parity.dims).toEqual([2, 64, 64]);
    expect(parity.mapsError).toBeLessThanOrEqual(1e-4);
    expect(parity.scoresError).toBeLessThanOrEqual(1e-4);
    const check = await onnxChecker(parity.onnx.bytes);
    if (check.skipped) console.log(`skipped ONNX's checker: ${check.skipped}`);
    else expect(check.checked).toMatch(/^checked \d+/);
  });
});

describe('PaDiM config', () => {
  it("defaults are the reference code's; 'reference' d needs one of its architectures", () => {
    const c = PadimConfigSchema.parse({});
    expect(c).toMatchObject({
      method: 'padim',
      backbone: { name: 'resnet18', taps: 'torchvision' },
      dimensions: 'reference',
      epsilon: 0.01,
      sigma: 4,
    });
    expect(padimMethod.describeConfig(c)).toBe('d 100 · ε 0.01 · σ 4');
    const bad = PadimConfigSchema.safeParse({ backbone: { name: 'vgg19' } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0].path).toEqual(['dimensions']);
    expect(PadimConfigSchema.safeParse({ backbone: { name: 'vgg19' }, dimensions: 200 }).success).toBe(true);
    expect(PadimConfigSchema.safeParse({ training: { epochs: 3 } }).success).toBe(false);
  });

  it('refuses Gaussians over the budget (WRN50-2, d = 550 at 56×56) and more channels than the backbone has', () => {
    const wide = PadimConfigSchema.parse({ backbone: { name: 'wide_resnet50_2' } });
    expect(() => assertGaussiansFit(wide, { height: 56, width: 56, label: 'fleece' })).toThrow(
      /dimensions: PaDiM's Gaussians for fleece \(56×56 positions, d = 550\) keep 3\.5 GiB.*gaussianBudgetGiB = 1\.5; d ≤ 357 fits/,
    );
    expect(() => assertGaussiansFit(config, { height: 16, width: 16, label: 'disc' })).not.toThrow();
    expect(() => assertGaussiansFit({ ...config, dimensions: 449 }, { height: 16, width: 16, label: 'disc' })).toThrow(
      /dimensions: 449 channels asked of resnet18, whose layer1..3 embedding has 448/,
    );
  });
});
