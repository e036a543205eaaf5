/**
 * What `bench` measures, per backbone and engine, at 224 input and batch 4 on the embedded default
 * — through the functions users run, with every setting from `CfaConfig`:
 *
 * - backbone forward (`createBackboneRunner`), feature-cache hit (`DiskEmbeddingCache`);
 * - the stage kernels alone: descriptor forward+backward, distance + top-k against HW/γc centres
 *   (stage-rows.ts);
 * - one training epoch of `fitCfa` with a warm feature cache (the second of two);
 * - inference throughput of `predictCfa` with γd = γc (paper Table 6), from the images (backbone
 *   and patch embedding, then `predictCfa`) and from cached features (`predictCfa` alone: what a
 *   sweep's predict pays per test image). Each is one timed pass after a warm-up pass, like the
 *   reference's, and includes what `predictCfa` sets up per call (its inference session);
 * - the fitted model exported as one ONNX graph (export-rows.ts; ONNX Runtime only).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BackboneModel, createBackboneRunner } from '@cfa/backbone';
import { type CfaConfig, CfaConfigSchema, fitCfa, type FitOptions, predictCfa } from '@cfa/cfa';
import { createPatchEmbedder } from '@cfa/descriptor';
import { DiskEmbeddingCache, embeddingKey, memoryEmbeddingSet } from '@cfa/method-kit';
import { exportedModelRow } from './export-rows';
import { stageRows } from './stage-rows';
import { type BenchRow, median } from './timing';

export type { BenchRow } from './timing';

export const GAMMAS = [1, 2, 4, 8] as const;
/** Images per batch of every row (the reference's too). */
const BATCH = 4;

export interface BenchEngineOptions {
  /** The engine and its threads, as `selectEngine` gave them. */
  engine: FitOptions['engine'];
  backbone: BackboneModel;
  /** What every fit and predict here runs with; the bench varies only epochs, γd and γc. */
  config: CfaConfig;
  /** `count` images [count, size, size, 3], normalised. */
  images: Float32Array;
  count: number;
  size: number;
  log: (line: string) => void;
}

/** Seconds of one call of `fn` after one untimed call. */
async function secondsAfterWarmUp(fn: () => Promise<unknown>): Promise<number> {
  return (await median(fn, 1)) / 1000;
}

export async function benchEngine(options: BenchEngineOptions): Promise<BenchRow[]> {
  const { engine, backbone, config, images, count, size, log } = options;
  const rows: BenchRow[] = [];
  const px = size * size * 3;
  const name = `${backbone.definition.name} ${engine.name}`;
  const outMultiplier = backbone.definition.embedding.outMultiplier;
  const runner = await createBackboneRunner({ engine, model: backbone, inputSize: size });
  const batch = images.subarray(0, BATCH * px);
  // one timed run on TensorFlow.js: its wasm backbone takes seconds per batch
  const repeat = engine.name === 'tfjs' ? 1 : 3;
  rows.push({
    key: 'backbone_ms',
    label: 'backbone forward',
    unit: 'ms/img',
    value: (await median(() => runner.forward(batch, BATCH), repeat)) / BATCH,
  });
  await runner.release();
  log(`${name}: backbone ${rows[0].value.toFixed(1)} ms/img`);

  const embedder = await createPatchEmbedder({ engine, backbone, inputSize: size });
  const embedAll = async () => {
    const pyramids: Float32Array[] = [];
    for (let i = 0; i < count; i += BATCH)
      pyramids.push(...(await embedder.embedPyramids(images.subarray(i * px, (i + BATCH) * px), BATCH)));
    return pyramids;
  };
  // the cache, the training step and inference hold each image's embedding pyramid
  const pyramids = await embedAll();
  const { levels } = embedder;
  const ids = pyramids.map((_, i) => `bench/${i}`);
  const set = memoryEmbeddingSet(ids, pyramids, levels);

  // feature cache hit: what every epoch and sweep cell pays instead of the backbone
  const cache = new DiskEmbeddingCache(await mkdtemp(join(tmpdir(), 'bench-cache-')));
  const keys = pyramids
    .slice(0, BATCH)
    .map((_, i) =>
      embeddingKey({ sourceHash: `bench-${i}`, view: 'bench', backbone: backbone.weightsSource.id, inputSize: size }),
    );
  for (let i = 0; i < BATCH; i++) await cache.set(keys[i], pyramids[i]);
  rows.push({
    key: 'cache_hit_ms',
    label: 'feature cache hit',
    unit: 'ms/img',
    value: (await median(() => Promise.all(keys.map((k) => cache.get(k))))) / BATCH,
  });

  rows.push(
    ...(await stageRows({ engine, pyramids: pyramids.slice(0, BATCH), levels, outMultiplier, gammas: GAMMAS })),
  );
  log(`${name}: descriptor and distances done`);

  // two epochs, the second timed: a 30-epoch run is made of warm epochs (the reference does the same)
  const trainConfig = CfaConfigSchema.parse({ ...config, training: { ...config.training, epochs: 2 } });
  const fitted = await fitCfa({ config: trainConfig, engine, train: set, outMultiplier });
  const epochSeconds = fitted.history[1].seconds;
  rows.push({ key: 'epoch_s', label: `training epoch (${count} images, cache warm)`, unit: 's', value: epochSeconds });
  log(`${name}: epoch ${epochSeconds.toFixed(1)} s (the second; the first ${fitted.history[0].seconds.toFixed(1)} s)`);
  if (engine.name === 'ort')
    rows.push(await exportedModelRow({ engine, backbone, fitted, levels, images, count, size }));

  // inference with γd = γc: a model fitted without epochs (the speed does not depend on training)
  const cachedRows: BenchRow[] = [];
  for (const g of GAMMAS) {
    const gammaConfig = CfaConfigSchema.parse({
      ...config,
      descriptor: { ...config.descriptor, gammaD: g },
      memoryBank: { ...config.memoryBank, gammaC: g },
      training: { ...config.training, epochs: 0 },
    });
    const model = await fitCfa({ config: gammaConfig, engine, train: set, outMultiplier });
    const fromImages = await secondsAfterWarmUp(async () =>
      predictCfa({ model, test: memoryEmbeddingSet(ids, await embedAll(), levels), inputSize: size }),
    );
    rows.push({
      key: `throughput_g${g}`,
      label: `inference throughput, γd=γc=${g}`,
      unit: 'img/s',
      value: count / fromImages,
    });
    const fromCache = await secondsAfterWarmUp(() => predictCfa({ model, test: set, inputSize: size }));
    cachedRows.push({
      key: `cached_throughput_g${g}`,
      label: `  from cached features, γd=γc=${g}`,
      unit: 'img/s',
      value: count / fromCache,
    });
  }
  rows.push(...cachedRows);
  await embedder.release();
  log(`${name}: throughput done`);
  return rows;
}
