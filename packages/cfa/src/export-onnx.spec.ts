/**
 * The one-graph ONNX export: ONNX Runtime runs it on the viewed images with the maps and scores of
 * `createImagePredictor` (within 1e-4 of the map scale), for any batch size, for CFA and CFA++;
 * ONNX's own checker accepts it (when a Python with the `onnx` package is at hand; else the test
 * says why it skipped).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOrtRunner, type EngineSelection, selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { decodeImage, generateSyntheticDataset, indexCategory } from '@cfa/data';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CfaConfigSchema } from './config';
import { runCfaOnCategory } from './run-category';
import { buildOnnxModel } from './export-onnx';
import { createImagePredictor, type ImageInput, type ImagePrediction } from './predict-images';
import type { TrainedCfa } from './trained-model';

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

/** A Python whose `onnx` imports, or why there is none. */
function pythonWithOnnx(): { python?: string; reason: string } {
  const candidates = [process.env.CFA_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean) as string[];
  for (const python of candidates) {
    try {
      execFileSync(python, ['-c', 'import onnx'], { stdio: 'ignore', timeout: 60_000 });
      return { python, reason: '' };
    } catch {
      // next candidate
    }
  }
  return { reason: `none of ${candidates.join(', ')} imports onnx (apt-get install python3-onnx)` };
}

async function predictBoth(model: TrainedCfa, batch: number[]) {
  const predictor = await createImagePredictor(model);
  const expected = await predictor.predict(batch.map((i) => images[i]));
  await predictor.release();
  const onnx = buildOnnxModel(model);
  const runner = await createOrtRunner(engine, onnx.bytes, 'exported model');
  const size = expected.size;
  const feed = (viewed: Float32Array[]) => {
    const data = new Float32Array(viewed.length * size * size * 3);
    viewed.forEach((v, i) => data.set(v, i * size * size * 3));
    return { data, dims: [viewed.length, size, size, 3] };
  };
  const out = await runner.run({
    image: feed(expected.viewed),
    ...(expected.companionViewed ? { companion_image: feed(expected.companionViewed) } : {}),
  });
  await runner.release();
  return { onnx, expected, maps: out.anomaly_map, scores: out.image_score.data as Float32Array };
}

function expectSame(got: { maps: { data: unknown; dims: number[] }; scores: Float32Array }, expected: ImagePrediction) {
  expect(got.maps.dims).toEqual([expected.ids.length, expected.size, expected.size]);
  expect(maxRelativeError(got.maps.data as Float32Array, expected.maps)).toBeLessThanOrEqual(1e-4);
  expect(maxRelativeError(got.scores, expected.imageScores)).toBeLessThanOrEqual(1e-4);
}

describe('buildOnnxModel', () => {
  it('CFA: ONNX Runtime gives predict’s maps and scores (1e-4) for batches of 3 and 1; inputs and metadata are documented', async () => {
    const run = await runCfaOnCategory({ config, root, category: 'nut', engine });
    const three = await predictBoth(run.model, [0, 1, 2]);
    expectSame(three, three.expected);
    const one = await predictBoth(run.model, [2]);
    expectSame(one, one.expected);
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

    const { python, reason } = pythonWithOnnx();
    if (!python) {
      console.log(`skipped ONNX's checker: ${reason}`);
      return;
    }
    const file = join(await mkdtemp(join(tmpdir(), 'cfa-onnx-file-')), 'model.onnx');
    await writeFile(file, three.onnx.bytes);
    const checked = execFileSync(
      python,
      [
        '-c',
        'import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print("checked", len(m.graph.node))',
        file,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(checked).toMatch(/^checked \d+/);
  });

  it('CFA++: one graph over both views (the shared backbone run once) gives predict’s combined maps (1e-4)', async () => {
    const run = await runCfaOnCategory({ config: { ...config, ensemble: 'cfa++' }, root, category: 'nut', engine });
    const got = await predictBoth(run.model, [0, 1, 2]);
    expectSame(got, got.expected);
    expect(got.onnx.inputs.map((i) => [i.name, i.view.kind])).toEqual([
      ['image', 'center-crop'],
      ['companion_image', 'resize'],
    ]);
  });
});
