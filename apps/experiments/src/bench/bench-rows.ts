/**
 * What `bench` measures, per backbone and engine, at 224 input and batch 4 on the embedded default:
 * backbone forward, feature-cache hit, descriptor forward+backward, distance + top-k against
 * HW/γc centres, one training epoch with a warm feature cache (the second of two), and inference
 * throughput with γd = γc (paper Table 6), image → map and from cached features (no backbone), and
 * the throughput of the fitted model exported as one ONNX graph (`buildOnnxModel`, ONNX Runtime
 * only: image in [0, 1] → map + score, everything inside the graph). Medians of repeated runs after
 * a warm-up.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createOrtRunner, createRng, type EngineSelection, OnnxGraphBuilder } from '@cfa/tensor-runtime';
import { type BackboneModel, createOrtBackboneRunner, createTfBackboneRunner } from '@cfa/backbone';
import {
  type CoordConvParams,
  coordinatesAndOneInitializer,
  coordinatesInitializer,
  createCoordConvParams,
  createDescriptorGradient,
  createDescriptorRunner,
  createPatchEmbedder,
  type EmbeddingLevel,
  expandPyramid,
  finishPyramidGradient,
  lowerCoordinateTerm,
  lowerPyramidForward,
  lowerPyramidWeightGradient,
  pyramidFeeds,
  pyramidInputs,
  pyramidWeightFeeds,
  pyramidWeightInputs,
} from '@cfa/descriptor';
import { createMemoryBank, createNearestSearch } from '@cfa/memory-bank';
import { anomalyMaps, patchAnomalyScores } from '@cfa/scoring';
import { IMAGENET_MEAN, IMAGENET_STD } from '@cfa/data';
import {
  buildOnnxModel,
  CfaConfigSchema,
  createPatchDistances,
  DiskEmbeddingCache,
  embeddingKey,
  fitCfa,
  memoryEmbeddingSet,
  stackImages,
} from '@cfa/cfa';

export const GAMMAS = [1, 2, 4, 8] as const;

export interface BenchRow {
  key: string;
  label: string;
  unit: 'ms/img' | 's' | 'img/s';
  value: number;
}

async function median(fn: () => Promise<unknown>, repeat = 3): Promise<number> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)];
}

/**
 * The descriptor's forward and weight gradient as the ONNX Runtime training step runs them: one
 * image's pyramid, level by level (∂loss/∂φ fed in, since the loss is timed in its own rows).
 */
async function pyramidDescriptorPass(engine: EngineSelection, params: CoordConvParams, levels: EmbeddingLevel[]) {
  const { height, width } = levels[0];
  const { coordChannels: c, outChannels: dOut } = params;
  const g = new OnnxGraphBuilder('bench-descriptor');
  const weights = pyramidWeightInputs(g, levels, c, dOut);
  const xs = pyramidInputs(g, levels);
  const phi = lowerPyramidForward(
    g,
    xs,
    weights,
    lowerCoordinateTerm(g, coordinatesInitializer(g, height, width, c), weights),
    levels,
  );
  // ∂loss/∂φ stands in as φ itself: the products are the same size
  const total = lowerPyramidWeightGradient(g, xs, phi, coordinatesAndOneInitializer(g, height, width, c), levels);
  const [gradWeight] = finishPyramidGradient(g, total, c);
  g.node('Identity', [gradWeight], {}, ['grad_weight']);
  g.output('grad_weight', [params.inChannels + c, dOut]);
  const runner = await createOrtRunner(engine, g.toBytes(), 'bench descriptor');
  return {
    run: async (pyramid: Float32Array) =>
      runner.run({
        ...pyramidWeightFeeds(params.weight, params.bias, levels, c, dOut),
        ...pyramidFeeds(pyramid, levels),
      }),
    release: () => runner.release(),
  };
}

/**
 * The fitted model (γ = 1) as the one-graph ONNX export, fed what a deployment feeds it — the
 * viewed images in [0, 1] (the bench's are normalised: undone here, outside the timing) — in
 * batches of 4, after a warm-up.
 */
async function exportedModelThroughput(
  engine: EngineSelection,
  backbone: BackboneModel,
  fitted: Awaited<ReturnType<typeof fitCfa>>,
  levels: EmbeddingLevel[],
  images: Float32Array,
  count: number,
  size: number,
): Promise<BenchRow> {
  const onnx = buildOnnxModel({
    config: fitted.config,
    backbone,
    members: [{ role: 'primary', view: fitted.config.view, levels, fitted }],
  });
  const rgb = Float32Array.from(
    images.subarray(0, count * size * size * 3),
    (v, i) => v * IMAGENET_STD[i % 3] + IMAGENET_MEAN[i % 3],
  );
  const runner = await createOrtRunner(engine, onnx.bytes, 'exported model');
  const px = size * size * 3;
  const feed = (i: number) => ({ image: { data: rgb.subarray(i * px, (i + 4) * px), dims: [4, size, size, 3] } });
  await runner.run(feed(0));
  const t = performance.now();
  for (let i = 0; i < count; i += 4) await runner.run(feed(i));
  const value = count / ((performance.now() - t) / 1000);
  await runner.release();
  return {
    key: 'exported_onnx_throughput',
    label: 'exported ONNX model (image → map + score), γ=1',
    unit: 'img/s',
    value,
  };
}

export async function benchEngine(
  engine: EngineSelection,
  backbone: BackboneModel,
  images: Float32Array,
  count: number,
  size: number,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const px = size * size * 3;
  const batch = images.subarray(0, 4 * px);
  const name = engine.name;
  // backbone forward
  if (name === 'ort') {
    const runner = await createOrtBackboneRunner(engine, backbone, size);
    rows.push({
      key: 'backbone_ms',
      label: 'backbone forward',
      unit: 'ms/img',
      value: (await median(() => runner.forward(batch, 4))) / 4,
    });
    await runner.release();
  } else {
    const runner = createTfBackboneRunner(backbone);
    rows.push({
      key: 'backbone_ms',
      label: 'backbone forward',
      unit: 'ms/img',
      value:
        (await median(async () => {
          const x = tf.tensor4d(batch, [4, size, size, 3]);
          const maps = runner.forward(x);
          await Promise.all(maps.map((m) => m.data()));
          tf.dispose([x, ...maps]);
        }, 1)) / 4,
    });
    runner.dispose();
  }
  log(`${backbone.definition.name} ${name}: backbone ${rows[0].value.toFixed(1)} ms/img`);
  const embedder = await createPatchEmbedder({ engine, backbone, inputSize: size });
  // the cache, the training step and inference hold each image's embedding pyramid
  const pyramids: Float32Array[] = [];
  for (let i = 0; i < count; i += 4)
    pyramids.push(...(await embedder.embedPyramids(images.subarray(i * px, (i + 4) * px), 4)));
  const { height, width, channels, levels } = embedder;
  const hw = height * width;
  // feature cache hit: what every epoch and sweep cell pays instead of the backbone
  const cache = new DiskEmbeddingCache(await mkdtemp(join(tmpdir(), 'bench-cache-')));
  const keys = pyramids
    .slice(0, 4)
    .map((_, i) =>
      embeddingKey({ sourceHash: `bench-${i}`, view: 'bench', backbone: backbone.weightsSource.id, inputSize: size }),
    );
  for (let i = 0; i < 4; i++) await cache.set(keys[i], pyramids[i]);
  rows.push({
    key: 'cache_hit_ms',
    label: 'feature cache hit',
    unit: 'ms/img',
    value: (await median(() => Promise.all(keys.map((k) => cache.get(k))))) / 4,
  });
  // descriptor forward + backward
  const params = createCoordConvParams({
    inChannels: channels,
    gammaD: 1,
    seed: 0,
    outMultiplier: backbone.definition.embedding.outMultiplier,
  });
  const descriptor = await createDescriptorRunner({ engine, height, width, params });
  // the step-by-step rows take the first batch upsampled
  const x4 = stackImages(pyramids.slice(0, 4).map((p) => expandPyramid(p, levels)));
  const phi = await descriptor.forward(x4, 4, params);
  if (name === 'ort') {
    // what the fused training step runs: each pyramid level at its own size
    const pass = await pyramidDescriptorPass(engine, params, levels);
    rows.push({
      key: 'descriptor_ms',
      label: 'descriptor forward+backward',
      unit: 'ms/img',
      value:
        (await median(async () => {
          for (const p of pyramids.slice(0, 4)) await pass.run(p);
        })) / 4,
    });
    await pass.release();
  } else {
    const gradient = await createDescriptorGradient({ engine, height, width, params });
    rows.push({
      key: 'descriptor_ms',
      label: 'descriptor forward+backward',
      unit: 'ms/img',
      value:
        (await median(async () => {
          const p = await descriptor.forward(x4, 4, params);
          await gradient.compute(x4, p, 4);
        })) / 4,
    });
    await gradient.release();
  }
  // distance + top-k
  const search = await createNearestSearch({ engine, dim: params.outChannels });
  const rng = createRng(1);
  for (const g of GAMMAS) {
    const m = Math.floor(hw / g);
    const bank = createMemoryBank(
      Float32Array.from({ length: m * params.outChannels }, () => rng.normal()),
      m,
      params.outChannels,
    );
    rows.push({
      key: `distance_ms_g${g}`,
      label: `distance + top-k, γc=${g}`,
      unit: 'ms/img',
      value: (await median(() => search.nearest(phi, 4 * hw, bank, 6))) / 4,
    });
  }
  log(`${backbone.definition.name} ${name}: descriptor and distances done`);
  await Promise.all([descriptor.release(), search.release()]);
  // one training epoch, feature cache warm
  // two epochs, the second timed: a 30-epoch run is made of warm epochs (the reference does the same)
  const config = CfaConfigSchema.parse({ training: { epochs: 2 }, backbone: { name: backbone.definition.name } });
  const set = memoryEmbeddingSet(
    pyramids.map((_, i) => `bench/${i}`),
    pyramids,
    levels,
  );
  const fitted = await fitCfa({
    config,
    engine,
    train: set,
    outMultiplier: backbone.definition.embedding.outMultiplier,
  });
  const epochSeconds = fitted.history[1].seconds;
  rows.push({ key: 'epoch_s', label: `training epoch (${count} images, cache warm)`, unit: 's', value: epochSeconds });
  log(
    `${backbone.definition.name} ${name}: epoch ${epochSeconds.toFixed(1)} s (the second; the first ${fitted.history[0].seconds.toFixed(1)} s)`,
  );
  // inference throughput with γd = γc, image → smoothed map; then the same from cached features
  // (what a sweep's predict pays per test image: its embeddings are cached like the train set's)
  const cachedRows: BenchRow[] = [];
  for (const g of GAMMAS) {
    const pg = createCoordConvParams({
      inChannels: channels,
      gammaD: g,
      seed: 0,
      outMultiplier: backbone.definition.embedding.outMultiplier,
    });
    const m = Math.floor(hw / g);
    const bank = createMemoryBank(
      Float32Array.from({ length: m * pg.outChannels }, () => rng.normal()),
      m,
      pg.outChannels,
    );
    const scorer = await createPatchDistances({ engine, params: pg, bank, levels, k: 3 });
    await scorer.nearest(pyramids.slice(0, 4)); // warm-up: the first run of a session sets up its memory (the reference warms up too)
    const t = performance.now();
    for (let i = 0; i < count; i += 4) {
      const distances = await scorer.nearest(await embedder.embedPyramids(images.subarray(i * px, (i + 4) * px), 4));
      anomalyMaps({
        scores: patchAnomalyScores({ distances, count: 4 * hw, k: 3, K: 3, metric: 'euclidean' }),
        count: 4,
        height,
        width,
        outputSize: size,
        sigma: 4,
      });
    }
    rows.push({
      key: `throughput_g${g}`,
      label: `inference throughput, γd=γc=${g}`,
      unit: 'img/s',
      value: count / ((performance.now() - t) / 1000),
    });
    const tc = performance.now();
    for (let i = 0; i < count; i += 4) {
      const distances = await scorer.nearest(pyramids.slice(i, i + 4));
      anomalyMaps({
        scores: patchAnomalyScores({ distances, count: 4 * hw, k: 3, K: 3, metric: 'euclidean' }),
        count: 4,
        height,
        width,
        outputSize: size,
        sigma: 4,
      });
    }
    cachedRows.push({
      key: `cached_throughput_g${g}`,
      label: `  from cached features, γd=γc=${g}`,
      unit: 'img/s',
      value: count / ((performance.now() - tc) / 1000),
    });
    await scorer.release();
  }
  rows.push(...cachedRows);
  if (name === 'ort') rows.push(await exportedModelThroughput(engine, backbone, fitted, levels, images, count, size));
  await embedder.release();
  log(`${backbone.definition.name} ${name}: throughput done`);
  return rows;
}
