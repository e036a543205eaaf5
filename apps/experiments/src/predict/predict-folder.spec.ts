/**
 * `predict` on a folder of new images with the model a run saved: the run's own scores again,
 * maps, masks at the calibrated threshold, the exported ONNX file giving the same maps, and every
 * bad input refused with the file named and nothing half-written in the output folder.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOrtRunner, type EngineSelection, selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { decodeImage, decodeMask, indexCategory, inferenceView, ViewSchema, viewRasters } from '@cfa/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CellResult, runCell } from '../run/run-cell';
import { RunConfigSchema } from '../run/run-config';
import { TINY_BASE, tinyDataset } from '../testing/tiny-dataset';
import { decodeNpy } from '../export/npy';
import { predictFolder } from './predict-folder';

let dataRoot: string;
let dir: string;
let engine: EngineSelection;
let result: CellResult;
let runDir: string;
let images: string;

beforeAll(async () => {
  dataRoot = await tinyDataset(['weave']);
  dir = await mkdtemp(join(tmpdir(), 'predict-'));
  engine = await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 1 });
  runDir = join(dir, 'run');
  result = await runCell({
    config: RunConfigSchema.parse({
      dataset: { root: dataRoot, category: 'weave' },
      cfa: { ...TINY_BASE, calibration: { holdout: 0.25 } },
      heatmaps: 0,
    }),
    engine,
    outDir: runDir,
  });
  // "new" images: the test images, without their folders' labels or masks
  images = join(dir, 'images');
  await mkdir(images, { recursive: true });
  const index = await indexCategory({ root: dataRoot, category: 'weave' });
  for (const ref of index.test) await cp(ref.imagePath, join(images, `${ref.id.replaceAll('/', '_')}.png`));
});

describe('predictFolder', () => {
  it('gives the run’s scores for its test images (1e-6), maps as float32 .npy and masks at the calibrated threshold', async () => {
    const out = join(dir, 'out-1');
    const summary = await predictFolder({ modelDir: runDir, input: images, out, engine });
    expect(summary.thresholds.source).toEqual({ image: 'calibrated', pixel: 'calibrated' });
    expect(summary.thresholds.pixel).toBe(result.thresholds!.pixel);
    expect(summary.images).toHaveLength(result.perImage.length);
    for (const p of result.perImage) {
      const got = summary.images.find((i) => i.name === p.id.replaceAll('/', '_'))!;
      expect(Math.abs(got.score - p.score), p.id).toBeLessThanOrEqual(1e-6);
      expect(got.anomalous).toBe(p.score > result.thresholds!.image);
    }
    const first = summary.images[0];
    const { data: map, shape } = decodeNpy(await readFile(join(out, first.map)));
    expect(shape).toEqual([56, 56]);
    expect(Math.max(...map)).toBeCloseTo(first.score, 5);
    const mask = await decodeMask(join(out, first.mask!));
    expect(Array.from(mask.data)).toEqual(Array.from(map, (v) => (v > summary.thresholds.pixel! ? 1 : 0)));
    const csv = (await readFile(join(out, 'scores.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('file,score,anomalous');
    expect(csv).toHaveLength(summary.images.length + 1);
    expect((await readdir(join(out, 'heatmaps'))).sort()).toEqual(summary.images.map((i) => `${i.name}.png`).sort());
    expect((await readdir(dir)).filter((n) => n.startsWith('.out-kept'))).toEqual([]);
  });

  it('the MLflow Model’s model.onnx gives predict’s maps (1e-4) on the viewed images', async () => {
    const out = join(dir, 'out-onnx');
    const summary = await predictFolder({
      modelDir: join(runDir, 'model'),
      input: images,
      out,
      engine,
      heatmaps: false,
    });
    const view = inferenceView(ViewSchema.parse(result.config.view));
    const size = summary.size;
    const batch = new Float32Array(summary.images.length * size * size * 3);
    const expected = new Float32Array(summary.images.length * size * size);
    for (const [i, img] of summary.images.entries()) {
      const viewed = viewRasters({ image: await decodeImage(img.file), view, sampleId: img.name });
      batch.set(viewed.image.data, i * size * size * 3);
      expected.set(decodeNpy(await readFile(join(out, img.map))).data, i * size * size);
    }
    const runner = await createOrtRunner(
      engine,
      await readFile(join(runDir, 'mlflow-model', 'model.onnx')),
      'exported',
    );
    const got = await runner.run({ image: { data: batch, dims: [summary.images.length, size, size, 3] } });
    await runner.release();
    expect(maxRelativeError(got.anomaly_map.data as Float32Array, expected)).toBeLessThanOrEqual(1e-4);
    expect(
      maxRelativeError(
        got.image_score.data as Float32Array,
        summary.images.map((i) => i.score),
      ),
    ).toBeLessThanOrEqual(1e-4);
  });

  it('writes no masks without a threshold, and masks at --threshold when given', async () => {
    const noHoldout = join(dir, 'run-no-holdout');
    await runCell({
      config: RunConfigSchema.parse({
        dataset: { root: dataRoot, category: 'weave' },
        cfa: { ...TINY_BASE, calibration: { holdout: 0 } },
        heatmaps: 0,
        model: { mlflow: false },
      }),
      engine,
      outDir: noHoldout,
    });
    const lines: string[] = [];
    const a = await predictFolder({
      modelDir: noHoldout,
      input: images,
      out: join(dir, 'out-2'),
      engine,
      log: (l) => lines.push(l),
    });
    expect(lines.join('\n')).toMatch(/no calibrated threshold .* no --threshold: writing maps and scores, no masks/);
    expect(a.images.every((i) => i.mask === null && i.anomalous === null)).toBe(true);
    expect(await stat(join(dir, 'out-2', 'masks')).catch(() => undefined)).toBeUndefined();
    const b = await predictFolder({
      modelDir: noHoldout,
      input: images,
      out: join(dir, 'out-3'),
      engine,
      threshold: 1e9,
    });
    expect(b.thresholds.source.pixel).toBe('option');
    const mask = await decodeMask(join(dir, 'out-3', b.images[0].mask!));
    expect(mask.data.every((v) => v === 0)).toBe(true);
  });

  it('refuses an --out that is, lies inside or holds what it reads (the run folder, the model, the input) before any work', async () => {
    const scores = await readFile(join(runDir, 'scores.csv'), 'utf8');
    for (const [modelDir, out, message] of [
      [runDir, runDir, /^--out .*\/run: is --model .*\/run, which this command reads/],
      [join(runDir, 'model'), runDir, /^--out .*\/run: holds --model .*\/run\/model, which this command reads/],
      [join(runDir, 'model'), join(runDir, 'p'), /^--out .*\/run\/p: lies inside the run folder of --model/],
      [runDir, join(runDir, 'model', 'p'), /^--out .*\/model\/p: lies inside --model/],
      [runDir, join(images, 'predictions'), /^--out .*\/images\/predictions: lies inside --input/],
      [runDir, dir, /^--out .*: holds --model .*\/run, which this command reads/],
    ] as const)
      await expect(predictFolder({ modelDir, input: images, out, engine }), String(out)).rejects.toThrow(message);
    // train-eval's own per-image scores are untouched
    expect(await readFile(join(runDir, 'scores.csv'), 'utf8')).toBe(scores);
  });

  it('one predict at a time into one --out (the second is refused, naming the first); a rerun replaces the folder, never mixes', async () => {
    const out = join(dir, 'out-shared');
    const first = predictFolder({ modelDir: runDir, input: images, out, engine, heatmaps: false });
    await new Promise((r) => setTimeout(r, 100));
    await expect(predictFolder({ modelDir: runDir, input: images, out, engine, heatmaps: false })).rejects.toThrow(
      new RegExp(`^--out .*out-shared: another run is writing this folder — process ${process.pid}`),
    );
    const all = await first;
    // a rerun on one image: its maps only, none left over from the first run's images
    const one = join(dir, 'one');
    await mkdir(one);
    await cp(all.images[0].file, join(one, 'x.png'));
    await predictFolder({ modelDir: runDir, input: one, out, engine, heatmaps: false });
    expect(await readdir(join(out, 'maps'))).toEqual(['x.npy']);
    expect((await readFile(join(out, 'scores.csv'), 'utf8')).trim().split('\n')).toHaveLength(2);
  });

  it('refuses an empty folder, a missing model, a damaged bundle and an undecodable image, naming the file; --out keeps what it held', async () => {
    const out = join(dir, 'out-kept');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'scores.csv'), 'earlier results\n');
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await expect(predictFolder({ modelDir: runDir, input: empty, out, engine })).rejects.toThrow(
      /empty: no images in this folder/,
    );
    await expect(predictFolder({ modelDir: join(dir, 'nowhere'), input: images, out, engine })).rejects.toThrow(
      /nowhere\/manifest\.json: no manifest\.json/,
    );
    const damaged = join(dir, 'damaged');
    await cp(join(runDir, 'model'), damaged, { recursive: true });
    const weights = await readFile(join(damaged, 'weights.safetensors'));
    await writeFile(join(damaged, 'weights.safetensors'), weights.subarray(0, weights.length / 2));
    await expect(predictFolder({ modelDir: damaged, input: images, out, engine })).rejects.toThrow(
      /damaged\/weights\.safetensors: damaged tensor file/,
    );
    // not an image at all: found by the header check, before any scoring
    const bad = join(dir, 'bad');
    await cp(images, bad, { recursive: true });
    await mkdir(join(bad, 'zz-line'));
    await writeFile(join(bad, 'zz-line', 'zz.png'), 'not a png');
    await expect(predictFolder({ modelDir: runDir, input: bad, out, engine })).rejects.toThrow(
      /bad\/zz-line\/zz\.png: cannot read the image header/,
    );
    // a truncated body passes the header check and fails while scoring — in the last chunk, after
    // the other images' outputs were written (to the staging folder)
    const png = await readFile(join(images, 'test_good_000.png'));
    await writeFile(join(bad, 'zz-line', 'zz.png'), png.subarray(0, Math.floor(png.length * 0.6)));
    await expect(predictFolder({ modelDir: runDir, input: bad, out, engine, chunk: 2 })).rejects.toThrow(
      /bad\/zz-line\/zz\.png: cannot decode image/,
    );
    expect(await readdir(out)).toEqual(['scores.csv']);
    expect(await readFile(join(out, 'scores.csv'), 'utf8')).toBe('earlier results\n');
    expect((await readdir(dir)).filter((n) => n.startsWith('.out-kept'))).toEqual([]);
    await rm(bad, { recursive: true });
  });
});
