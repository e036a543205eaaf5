/**
 * The model bundle: a fit saved and loaded again scores new images exactly as the run scored its
 * test set, and every way a bundle or its backbone can be wrong is refused with the file named.
 */
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EngineSelection, selectEngine } from '@cfa/tensor-runtime';
import { decodeImage, generateSyntheticDataset, indexCategory } from '@cfa/data';
import { decodeSafetensors, encodeSafetensors } from '@cfa/backbone';
import { beforeAll, describe, expect, it } from 'vitest';
import { CfaConfigSchema } from './config';
import { type CfaRun, runCfaOnCategory } from './run-cfa';
import {
  createImagePredictor,
  loadModel,
  MANIFEST_DIGEST_KEY,
  manifestDigest,
  memberModel,
  MODEL_MANIFEST_FILE,
  MODEL_TENSORS_FILE,
  type ModelManifest,
  saveModel,
} from '@cfa/method-kit';
import { cfaMethod } from './cfa-method';
import type { FittedCfa } from './fit';

let root: string;
let engine: EngineSelection;
let run: CfaRun;
let bundle: string;
let manifest: ModelManifest;

const config = CfaConfigSchema.parse({
  view: { kind: 'center-crop', resize: 64, crop: 56 },
  training: { epochs: 1, dropLast: false },
  memoryBank: { gammaC: 2 },
  scoring: { sigma: 1 },
  calibration: { holdout: 0.25 },
});

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cfa-bundle-'));
  await generateSyntheticDataset({
    root,
    categories: ['disc'],
    imageSize: 64,
    trainCount: 4,
    testGoodCount: 2,
    testDefectCount: 4,
  });
  engine = await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 1 });
  run = await runCfaOnCategory({ config, root, category: 'disc', engine });
  bundle = join(root, 'model');
  manifest = await saveModel(bundle, run.model);
});

/** The error message of loading `dir` (a loaded model is far too large for a test failure to print). */
const loadError = (dir: string) =>
  loadModel(dir, { engine, methods: [cfaMethod] }).then(
    () => 'loaded without an error',
    (error: Error) => error.message,
  );

/** A copy of the bundle with `change` applied to it. */
async function damaged(change: (dir: string) => Promise<void>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cfa-bundle-bad-'));
  await rm(dir, { recursive: true });
  await cp(bundle, dir, { recursive: true });
  await change(dir);
  return dir;
}

const editManifest = (edit: (m: Record<string, unknown> & ModelManifest) => void) => async (dir: string) => {
  const m = JSON.parse(await readFile(join(dir, MODEL_MANIFEST_FILE), 'utf8'));
  edit(m);
  await writeFile(join(dir, MODEL_MANIFEST_FILE), JSON.stringify(m));
};

/**
 * A manifest edit made as if the bundle had been saved that way: the tensor file records the
 * edited manifest's digest (`metadata: undefined`: none, as bundles written before it) and the
 * manifest the new tensor file's sha256 — so that what is tested is the edit, not the tamper check.
 */
const resaved =
  (edit: (m: Record<string, unknown> & ModelManifest) => void, metadata?: 'none') => async (dir: string) => {
    const m = JSON.parse(await readFile(join(dir, MODEL_MANIFEST_FILE), 'utf8'));
    edit(m);
    const { tensors } = decodeSafetensors(await readFile(join(dir, MODEL_TENSORS_FILE)), 'x');
    const bytes = encodeSafetensors(
      tensors,
      metadata ? {} : { metadata: { [MANIFEST_DIGEST_KEY]: manifestDigest(m) } },
    );
    await writeFile(join(dir, MODEL_TENSORS_FILE), bytes);
    m.tensors.sha256 = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(dir, MODEL_MANIFEST_FILE), JSON.stringify(m));
  };

const editTensors = (edit: (t: ReturnType<typeof decodeSafetensors>['tensors']) => void) => async (dir: string) => {
  const { tensors } = decodeSafetensors(await readFile(join(dir, MODEL_TENSORS_FILE)), 'x');
  edit(tensors);
  await writeFile(join(dir, MODEL_TENSORS_FILE), encodeSafetensors(tensors));
};

describe('saveModel / loadModel', () => {
  it('the run held out 1 of 4 train images and calibrated thresholds on them', () => {
    expect(run.trainCount).toBe(3);
    expect(run.calibrationCount).toBe(1);
    expect(run.thresholds).toMatchObject({ holdoutImages: 1, imageFpr: 0.01, pixelFpr: 0.001 });
    expect(manifest.thresholds).toEqual(run.thresholds);
  });

  it('a reloaded model scores the test images (read from their files) as the run did, to 1e-6', async () => {
    const { model, manifest: read } = await loadModel(bundle, { engine, methods: [cfaMethod] });
    expect(read).toEqual(manifest);
    expect(model.thresholds).toEqual(run.thresholds);
    const index = await indexCategory({ root, category: 'disc' });
    const images = await Promise.all(
      index.test.map(async (r) => ({ id: r.id, image: await decodeImage(r.imagePath) })),
    );
    const predictor = await createImagePredictor(model, engine);
    const out = await predictor.predict(images);
    await predictor.release();
    expect(out.ids).toEqual(run.prediction.ids);
    expect(out.maps).toHaveLength(run.prediction.maps.length);
    let worst = 0;
    out.maps.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - run.prediction.maps[i]))));
    expect(worst).toBeLessThanOrEqual(1e-6);
    out.imageScores.forEach((s, i) => expect(Math.abs(s - run.prediction.imageScores[i])).toBeLessThanOrEqual(1e-6));
  });

  it('a bundle written before methods (format version 1, no `method`) reads as CFA, the same model', async () => {
    const dir = await damaged(
      resaved((m) => {
        const old = m as Record<string, unknown>;
        old.formatVersion = 1;
        delete old.method;
        delete (old.config as Record<string, unknown>).method;
      }, 'none'),
    );
    const { model, manifest: read } = await loadModel(dir, { engine, methods: [cfaMethod] });
    expect(read.method).toBe('cfa');
    expect(model.method).toBe(cfaMethod);
    expect((model.members[0].fitted as FittedCfa).radius).toBe(run.summary.radius);
    expect(
      await loadError(await damaged(resaved((m) => ((m as Record<string, unknown>).formatVersion = 1), 'none'))),
    ).toMatch(/format version 1 has no "method" field/);
  });

  it('a CFA++ run saves both members, and a plain run without hold-out saves no thresholds', async () => {
    const plus = await runCfaOnCategory({
      config: { ...config, ensemble: 'cfa++', calibration: { ...config.calibration, holdout: 0 } },
      root,
      category: 'disc',
      engine,
    });
    expect(plus.thresholds).toBeUndefined();
    const dir = join(root, 'model-plus');
    const written = await saveModel(dir, plus.model);
    expect(written.members.map((m) => [m.role, m.inferenceView.kind, m.inputSize])).toEqual([
      ['primary', 'center-crop', 56],
      ['companion', 'resize', 56],
    ]);
    expect(written.thresholds).toBeNull();
    const { model } = await loadModel(dir, { engine, methods: [cfaMethod] });
    expect(model.members).toHaveLength(2);
    expect(model.thresholds).toBeUndefined();
    // each member can leave alone, as a plain CFA model on its view
    const companionDir = join(root, 'model-companion');
    const alone = await saveModel(companionDir, memberModel(plus.model, 'companion'));
    expect(alone.config).toMatchObject({ ensemble: 'none', view: { kind: 'resize', size: 56 } });
    const companion = await loadModel(companionDir, { engine, methods: [cfaMethod] });
    const index = await indexCategory({ root, category: 'disc' });
    const images = await Promise.all(
      index.test.map(async (r) => ({ id: r.id, image: await decodeImage(r.imagePath) })),
    );
    const predictor = await createImagePredictor(companion.model, engine);
    const out = await predictor.predict(images);
    await predictor.release();
    const expected = plus.ensemble!.companion.prediction.maps;
    let worst = 0;
    out.maps.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - expected[i]))));
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it.each([
    [
      'a folder without a manifest',
      async (d: string) => rm(join(d, MODEL_MANIFEST_FILE)),
      /manifest\.json: no manifest\.json/,
    ],
    [
      'a damaged manifest',
      async (d: string) => writeFile(join(d, MODEL_MANIFEST_FILE), '{"format": "cfa-mo'),
      /manifest\.json: not valid JSON/,
    ],
    [
      'a newer format version',
      editManifest((m) => ((m as Record<string, unknown>).formatVersion = 3)),
      /manifest\.json: format version 3 was written by a newer cfa-toolkit; this one reads up to version 2/,
    ],
    [
      'a bad field',
      editManifest((m) => ((m.members[0] as Record<string, unknown>).radius = 'big')),
      /manifest\.json: invalid manifest:[\s\S]*members\[0\]\.radius/,
    ],
    [
      'a missing tensor',
      editTensors((t) => t.delete('primary.bank.centres')),
      /weights\.safetensors: missing tensor 'primary\.bank\.centres' \(expected shape \[98, 448\]\)/,
    ],
    [
      'a wrong-shaped tensor',
      editTensors((t) => t.set('primary.descriptor.bias', { shape: [3], data: new Float32Array(3) })),
      /weights\.safetensors: tensor 'primary\.descriptor\.bias' has shape \[3\], the manifest says \[448\]/,
    ],
    [
      'changed tensor values',
      editTensors((t) => (t.get('primary.descriptor.bias')!.data[0] += 1)),
      /weights\.safetensors: sha256 [0-9a-f]{64} differs from the manifest's/,
    ],
    [
      'a truncated tensor file',
      async (d: string) => {
        const bytes = await readFile(join(d, MODEL_TENSORS_FILE));
        await writeFile(join(d, MODEL_TENSORS_FILE), bytes.subarray(0, bytes.length - 100));
      },
      /weights\.safetensors: damaged tensor file/,
    ],
    [
      'another random init than the fit used',
      resaved((m) => {
        if (m.backbone.weights.kind === 'random') m.backbone.weights.seed = m.config.seed = 1;
      }),
      /manifest\.json: the resnet18 weights built here \(digest [0-9a-f]{64}\) are not the ones the model was fitted with/,
    ],
    [
      'a weight file that is not at hand',
      resaved((m) => {
        m.backbone.weights = {
          kind: 'file',
          path: '/nowhere/resnet18.safetensors',
          sha256: '0'.repeat(64),
          allowPartial: false,
        };
        m.config.backbone.weights = '/nowhere/resnet18.safetensors';
      }),
      /\/nowhere\/resnet18\.safetensors: the backbone weights of this model are not at hand .* pass the file with --weights/,
    ],
    [
      'fields edited to disagree (the backbone’s seed, not the config’s)',
      editManifest((m) => {
        if (m.backbone.weights.kind === 'random') m.backbone.weights.seed = 7;
      }),
      /manifest\.json: its fields disagree with each other \(edited by hand\?\): config\.seed vs backbone\.weights\.seed: 0 vs 7/,
    ],
    [
      'thresholds that disagree with the calibration config',
      editManifest((m) => (m.thresholds!.imageFpr = 0.5)),
      /its fields disagree .*config\.calibration\.imageFpr vs thresholds\.imageFpr: 0\.01 vs 0\.5/,
    ],
    [
      'a threshold edited by hand (each field still plausible)',
      editManifest((m) => (m.thresholds!.image *= 0.5)),
      /manifest\.json: was changed after the model was saved: its content no longer matches the digest [0-9a-f]{64} recorded in weights\.safetensors/,
    ],
  ])('refuses %s, naming the file', async (_what, change, message) => {
    expect(await loadError(await damaged(change))).toMatch(message);
  });

  it('refuses a weight file whose sha256 is not the manifest’s', async () => {
    const weights = join(root, 'resnet18.safetensors');
    await writeFile(weights, encodeSafetensors(run.model.backbone.weights));
    const dir = await damaged(
      resaved((m) => {
        m.backbone.weights = { kind: 'file', path: weights, sha256: 'a'.repeat(64), allowPartial: false };
        m.config.backbone.weights = weights;
      }),
    );
    expect(await loadError(dir)).toMatch(
      /resnet18\.safetensors: other backbone weights than the model was fitted with: sha256 [0-9a-f]{64}, .*manifest\.json says a{64}/,
    );
  });
});
