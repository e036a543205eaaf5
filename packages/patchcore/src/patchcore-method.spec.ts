/**
 * PatchCore through the kit on a tiny category (ResNet-18, 64 px → 56 crop, small embedding dims
 * so the pooling's overlapping bins are exercised): a run on both engines (the same bank, maps
 * within 1e-4), the image score as the largest patch score, the bundle read back scoring as the
 * run did, the one-graph ONNX export against predict (and ONNX's checker), and the config's errors.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EngineSelection, selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { decodeImage, indexCategory } from '@cfa/data';
import {
  createImagePredictor,
  type ImageInput,
  loadModel,
  methodConfigSchema,
  runMethodOnCategory,
  saveModel,
} from '@cfa/method-kit';
import { exportParity, onnxChecker, positionMeanMethod, tinyDiscCategory } from '@cfa/method-kit/testing';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { PatchCoreConfigSchema } from './config';
import type { FittedPatchCore } from './fit';
import { patchcoreMethod } from './patchcore-method';

let root: string;
let ort: EngineSelection;
let tfjs: EngineSelection;
let images: ImageInput[];

const config = PatchCoreConfigSchema.parse({
  backbone: { name: 'resnet18' },
  view: { kind: 'center-crop', resize: 64, crop: 56, filter: 'bilinear' },
  embedding: { preDim: 40, targetDim: 24 },
  coreset: { fraction: 0.25 },
  scoring: { sigma: 2 },
  calibration: { holdout: 0.25 },
});

beforeAll(async () => {
  root = await tinyDiscCategory('patchcore-', 3);
  ort = await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 1 });
  tfjs = await selectEngine({ requested: 'tfjs', tfBackend: 'wasm' });
  const index = await indexCategory({ root, category: 'disc' });
  images = await Promise.all(index.test.map(async (r) => ({ id: r.id, image: await decodeImage(r.imagePath) })));
});

const run = (engine: EngineSelection, c = config) =>
  runMethodOnCategory({ method: patchcoreMethod, config: c, root, category: 'disc', engine });

describe('PatchCore through the kit', () => {
  let fromOrt: Awaited<ReturnType<typeof run>>;

  it('runs a category: a coreset of ⌊N·H·W · 25 %⌋ patches, maps on the view’s grid, the image score the largest patch score', async () => {
    const phases = new Set<string>();
    fromOrt = await runMethodOnCategory({
      method: patchcoreMethod,
      config,
      root,
      category: 'disc',
      engine: ort,
      onProgress: (e) => phases.add(`${e.phase}${e.detail?.startsWith('coreset:') ? ' coreset' : ''}`),
    });
    const fitted = fromOrt.model.members[0].fitted as FittedPatchCore;
    expect([fitted.height, fitted.width, fitted.bank.dim]).toEqual([7, 7, 24]);
    expect(fromOrt.trainCount).toBe(3);
    expect(fitted.bank.size).toBe(Math.floor(3 * 49 * 0.25));
    expect(fromOrt.summary).toMatchObject({ bankSize: 36, bankBytes: 4 * 36 * 24, trainPatches: 147 });
    expect(phases).toContain('bank coreset');
    expect(fromOrt.history).toEqual([]);
    const { prediction } = fromOrt;
    expect(prediction.maps.length).toBe(fromOrt.test.length * 56 * 56);
    prediction.imageScores.forEach((score, i) =>
      expect(score).toBe(Math.max(...prediction.patchScores.subarray(i * 49, (i + 1) * 49))),
    );
    // a train patch's nearest bank entry is itself: a bank row scores (about) 0
    expect(Math.min(...prediction.patchScores)).toBeGreaterThanOrEqual(0);
  });

  it('TensorFlow.js gives the same coreset and maps within 1e-4', async () => {
    const fromTf = await run(tfjs);
    const a = fromOrt.model.members[0].fitted as FittedPatchCore;
    const b = fromTf.model.members[0].fitted as FittedPatchCore;
    expect([...b.coreset.indices!]).toEqual([...a.coreset.indices!]);
    expect(maxRelativeError(fromTf.prediction.maps, fromOrt.prediction.maps)).toBeLessThan(1e-4);
    expect(maxRelativeError(fromTf.prediction.imageScores, fromOrt.prediction.imageScores)).toBeLessThan(1e-4);
  });

  it('the bundle reads back and scores the test images as the run did (1e-6)', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'patchcore-bundle-')), 'model');
    const manifest = await saveModel(dir, fromOrt.model);
    expect(manifest).toMatchObject({ formatVersion: 2, method: 'patchcore', members: [{ role: 'primary' }] });
    const { model } = await loadModel(dir, { engine: ort, methods: [patchcoreMethod] });
    const predictor = await createImagePredictor(model, ort);
    const out = await predictor.predict(images);
    await predictor.release();
    let worst = 0;
    out.maps.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - fromOrt.prediction.maps[i]))));
    expect(worst).toBeLessThanOrEqual(1e-6);
    expect(Array.from(out.imageScores)).toEqual(Array.from(fromOrt.prediction.imageScores));
  });

  it('the one-graph ONNX export gives predict’s maps and image scores (1e-4); ONNX’s checker accepts it', async () => {
    const parity = await exportParity(fromOrt.model, images.slice(0, 3), ort);
    expect(parity.dims).toEqual([3, 56, 56]);
    expect(parity.mapsError).toBeLessThanOrEqual(1e-4);
    expect(parity.scoresError).toBeLessThanOrEqual(1e-4);
    const proto = onnxProto.onnx.ModelProto.decode(parity.onnx.bytes);
    const meta = Object.fromEntries(proto.metadataProps.map((p) => [p.key, p.value]));
    expect(meta['cfa.method']).toBe('patchcore');
    expect(proto.graph?.output?.[1].docString).toMatch(/the largest patch score/);
    const check = await onnxChecker(parity.onnx.bytes);
    if (check.skipped) console.log(`skipped ONNX's checker: ${check.skipped}`);
    else expect(check.checked).toMatch(/^checked \d+/);
  });
});

describe('PatchCore config', () => {
  const schema = methodConfigSchema([patchcoreMethod, positionMeanMethod]);

  it('defaults are the authors’ code’s: WRN50-2 layer2 + layer3 (torchvision taps), 1024 > 1024, p = 3, 10 %, k = 1, σ = 4, bilinear resize 256 → 224', () => {
    const c = PatchCoreConfigSchema.parse({});
    expect(c).toMatchObject({
      method: 'patchcore',
      backbone: { name: 'wide_resnet50_2', taps: 'torchvision' },
      layers: ['layer2', 'layer3'],
      embedding: { patchSize: 3, preDim: 1024, targetDim: 1024 },
      coreset: { fraction: 0.1, projectionDim: 128, startPoints: 10 },
      scoring: { neighbours: 1, sigma: 4 },
      view: { kind: 'center-crop', resize: 256, crop: 224, filter: 'bilinear' },
    });
  });

  it('names a field of another method as that method’s, and refuses bad values with their paths', () => {
    const sigma = schema.safeParse({ method: 'patchcore', sigma: 2 });
    expect(sigma.error?.issues[0]).toMatchObject({
      path: ['sigma'],
      message: "'sigma' belongs to method position-mean, not patchcore",
    });
    const paths = (input: unknown) => PatchCoreConfigSchema.safeParse(input).error?.issues.map((i) => i.path.join('.'));
    expect(paths({ coreset: { fraction: 0 } })).toEqual(['coreset.fraction']);
    expect(paths({ coreset: { fraction: 1.5 } })).toEqual(['coreset.fraction']);
    expect(paths({ embedding: { patchSize: 4 } })).toEqual(['embedding.patchSize']);
    expect(paths({ scoring: { K: 3 } })).toEqual(['scoring']);
  });

  it('a layer the backbone does not tap, and a coreset smaller than the neighbours, are errors naming the field', async () => {
    await expect(run(ort, { ...config, layers: ['layer2', 'layer4'] })).rejects.toThrow(
      /layers: 'layer4' is not a tapped map of resnet18 \(its maps: layer1, layer2, layer3\)/,
    );
    await expect(
      run(ort, {
        ...config,
        coreset: { ...config.coreset, fraction: 0.001 },
        calibration: { ...config.calibration, holdout: 0 },
      }),
    ).rejects.toThrow(
      /coreset.fraction: 0.001 of 196 train patches \(4 images × 49\) keeps 0, fewer than scoring.neighbours \(1\)/,
    );
  });
});
