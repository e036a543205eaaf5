/**
 * The one-graph ONNX export: ONNX Runtime runs it on the viewed images with the maps and scores of
 * `createImagePredictor` (within 1e-4 of the map scale), for any batch size, for CFA and CFA++;
 * ONNX's own checker accepts it (when a Python with the `onnx` package is at hand; else the test
 * says why it skipped).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EngineSelection, selectEngine } from '@cfa/tensor-runtime';
import { decodeImage, generateSyntheticDataset, indexCategory } from '@cfa/data';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CfaConfigSchema } from './config';
import { runCfaOnCategory } from './run-cfa';
import type { ImageInput } from '@cfa/method-kit';
import { type ExportParity, exportParity, onnxChecker } from '@cfa/method-kit/testing';

let root: string;
let engine: EngineSelection;
let images: ImageInput[];

const config = CfaConfigSchema.parse({
  view: { kind: 'center-crop', resize: 64, crop: 56 },
  training: { epochs: 1, dropLast: false },
  memoryBank: { gammaC: 2 },
  descriptor: { gammaD: 2 },
  scoring: { sigma: 1 },
  calibration: { holdout: 0.25 },
});

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cfa-onnx-'));
  await generateSyntheticDataset({
    root,
    categories: ['nut'],
    imageSize: 64,
    trainCount: 4,
    testGoodCount: 1,
    testDefectCount: 2,
  });
  engine = await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 1 });
  const index = await indexCategory({ root, category: 'nut' });
  images = await Promise.all(index.test.map(async (r) => ({ id: r.id, image: await decodeImage(r.imagePath) })));
});

const testImages = (batch: number[]) => batch.map((i) => images[i]);

function expectSame(got: ExportParity) {
  expect(got.dims).toEqual([got.expected.ids.length, got.expected.size, got.expected.size]);
  expect(got.mapsError).toBeLessThanOrEqual(1e-4);
  expect(got.scoresError).toBeLessThanOrEqual(1e-4);
}

describe('buildOnnxModel', () => {
  it('CFA: ONNX Runtime gives predict’s maps and scores (1e-4) for batches of 3 and 1; inputs and metadata are documented', async () => {
    const run = await runCfaOnCategory({ config, root, category: 'nut', engine });
    const three = await exportParity(run.model, testImages([0, 1, 2]), engine);
    expectSame(three);
    const one = await exportParity(run.model, testImages([2]), engine);
    expectSame(one);
    expect(three.onnx.inputs.map((i) => [i.name, i.shape])).toEqual([['image', ['n', 56, 56, 3]]]);
    const proto = onnxProto.onnx.ModelProto.decode(three.onnx.bytes);
    expect(proto.graph?.input?.map((i) => i.name)).toEqual(['image']);
    expect(proto.graph?.input?.[0].docString).toMatch(
      /RGB in \[0, 1\].*short side resized to 64 \(Pillow.s Lanczos.*\).*centre-cropped to 56×56/,
    );
    expect(proto.graph?.output?.map((o) => o.name)).toEqual(['anomaly_map', 'image_score']);
    const meta = Object.fromEntries(proto.metadataProps.map((p) => [p.key, p.value]));
    expect(JSON.parse(meta['cfa.thresholds'])).toEqual(run.thresholds);
    expect(meta['cfa.views']).toBe('center-crop:64:56');

    expect(meta['cfa.method']).toBe('cfa');
    const check = await onnxChecker(three.onnx.bytes);
    if (check.skipped) console.log(`skipped ONNX's checker: ${check.skipped}`);
    else expect(check.checked).toMatch(/^checked \d+/);
  });

  it('CFA++: one graph over both views (the shared backbone run once) gives predict’s combined maps (1e-4)', async () => {
    const run = await runCfaOnCategory({ config: { ...config, ensemble: 'cfa++' }, root, category: 'nut', engine });
    const got = await exportParity(run.model, testImages([0, 1, 2]), engine);
    expectSame(got);
    expect(got.onnx.inputs.map((i) => [i.name, i.view.kind])).toEqual([
      ['image', 'center-crop'],
      ['companion_image', 'resize'],
    ]);
  });
});
