/**
 * One run from config to numbers and pictures: CFA (or CFA++, `cfa.ensemble`) on one category,
 * then the metrics, the result JSON, per-image scores, and heatmap panels. Used by `train-eval`,
 * by every sweep cell and by queue workers alike.
 */
import { join } from 'node:path';
import type { EngineSelection } from '@cfa/tensor-runtime';
import { describeEngine } from '@cfa/tensor-runtime';
import { ensureSyntheticDataset, writePngAtomic } from '@cfa/data';
import {
  type CategoryRun,
  type EmbeddingCache,
  type EnsembleMemberRun,
  type EpochRecord,
  runCfaOnCategory,
  type RunProgress,
} from '@cfa/cfa';
import { computeAnomalyMetrics } from '@cfa/metrics';
import { checkOutputFolder, writeFileAtomic } from '@cfa/io';
import { heatmapPanel } from '../report/heatmap-panel';
import { DEFAULT_SYNTHETIC_ROOT, type RunConfig } from './run-config';

export interface CellMetrics {
  imageAuroc: number;
  pixelAuroc: number;
  pixelAupro: number;
  imageF1Max: number;
  pixelF1Max: number;
}

export interface CellResult {
  config: RunConfig;
  dataRoot: string;
  metrics: CellMetrics & {
    imageF1Threshold: number;
    pixelF1Threshold: number;
    undefinedMetrics: Record<string, string>;
  };
  engine: { name: string; threads: number; tfBackend: string; description: string };
  backbone: { name: string; weights: string; featureChannels: number[] };
  counts: { train: number; test: number; anomalous: number };
  model: { bankSize: number; descriptorChannels: number; radius: number };
  /** The primary model's epochs (CFA++: the companion's are in `ensemble.companion.history`). */
  history: EpochRecord[];
  /** CFA++: summed over both models; the throughput counts both views. */
  timings: CategoryRun['timings'] & { totalSeconds: number; throughputImagesPerSecond: number };
  cache: CategoryRun['cache'];
  perImage: { id: string; label: number; score: number }[];
  /** CFA++ only: the two views whose maps were averaged, and the companion model. */
  ensemble?: {
    kind: 'cfa++';
    views: [string, string];
    companion: Pick<EnsembleMemberRun, 'history' | 'radius' | 'bankSize' | 'timings'>;
  };
}

export interface RunCellOptions {
  config: RunConfig;
  engine: EngineSelection;
  /** Folder for result.json, scores.csv, heatmaps/ (skipped when absent). */
  outDir?: string;
  cache?: EmbeddingCache;
  onProgress?: (event: RunProgress) => void;
  onEpoch?: (record: EpochRecord) => void;
  /** CFA++ only: the companion model's epochs. */
  onCompanionEpoch?: (record: EpochRecord) => void;
  log?: (line: string) => void;
}

/** Test images chosen for pictures: the most and least anomalous by score, defects first. */
function heatmapChoice(run: CategoryRun, count: number): number[] {
  const order = run.prediction.ids
    .map((_, i) => i)
    .sort((a, b) => run.prediction.imageScores[b] - run.prediction.imageScores[a]);
  const defects = order.filter((i) => run.test[i].ref.label === 1);
  const good = order.filter((i) => run.test[i].ref.label === 0);
  const picked = new Set<number>();
  const want = Math.min(count, order.length);
  for (let k = 0; picked.size < want && k < order.length; k++) {
    if (defects[k] !== undefined && picked.size < want) picked.add(defects[k]);
    if (good[k] !== undefined && picked.size < want) picked.add(good[k]);
  }
  return [...picked];
}

export async function runCell(options: RunCellOptions): Promise<CellResult> {
  const { config, engine, outDir, log = () => undefined } = options;
  const start = performance.now();
  // before any work: an output folder that cannot be written would lose the results after training
  if (outDir) await checkOutputFolder(outDir, '--out');
  const dataRoot = config.dataset.root ?? DEFAULT_SYNTHETIC_ROOT;
  if (!config.dataset.root) {
    const ensured = await ensureSyntheticDataset({ root: dataRoot });
    log(
      ensured.generated
        ? `generated the embedded synthetic dataset in ${dataRoot}`
        : `using the embedded synthetic dataset in ${dataRoot}`,
    );
  }
  const run = await runCfaOnCategory({
    config: config.cfa,
    root: dataRoot,
    category: config.dataset.category,
    engine,
    cache: options.cache,
    onProgress: options.onProgress,
    onEpoch: options.onEpoch,
    onCompanionEpoch: options.onCompanionEpoch,
  });
  const size = run.inputSize;
  const n = run.test.length;
  const masks = new Uint8Array(n * size * size);
  run.test.forEach((s, i) => masks.set(s.mask, i * size * size));
  const labels = Uint8Array.from(run.test, (s) => s.ref.label);
  const metrics = computeAnomalyMetrics({
    imageScores: run.prediction.imageScores,
    imageLabels: labels,
    maps: run.prediction.maps,
    masks,
    count: n,
    height: size,
    width: size,
  });
  const totalSeconds = (performance.now() - start) / 1000;
  const result: CellResult = {
    config,
    dataRoot,
    metrics,
    engine: {
      name: engine.name,
      threads: engine.threads,
      tfBackend: engine.tf.backend,
      description: describeEngine(engine),
    },
    backbone: {
      name: run.backbone.name,
      weights: run.backbone.weightsSource.kind === 'file' ? run.backbone.weightsSource.path : 'random',
      featureChannels: run.backbone.featureChannels,
    },
    counts: { train: run.trainCount, test: n, anomalous: labels.reduce((a, b) => a + b, 0) },
    model: { bankSize: run.bankSize, descriptorChannels: run.descriptorChannels, radius: run.radius },
    history: run.history,
    timings: {
      ...run.timings,
      totalSeconds,
      throughputImagesPerSecond: n / (run.timings.embedTestSeconds + run.timings.predictSeconds),
    },
    cache: run.cache,
    perImage: run.test.map((s, i) => ({ id: s.ref.id, label: s.ref.label, score: run.prediction.imageScores[i] })),
  };
  if (run.ensemble) {
    const { kind, views, companion } = run.ensemble;
    result.ensemble = {
      kind,
      views,
      companion: {
        history: companion.history,
        radius: companion.radius,
        bankSize: companion.bankSize,
        timings: companion.timings,
      },
    };
  }
  if (outDir) await writeOutputs(outDir, result, run, config.heatmaps);
  return result;
}

/**
 * Heatmaps first, then scores.csv, then result.json, each written atomically: a folder holding
 * result.json is complete, and no file in it is ever half-written.
 */
async function writeOutputs(outDir: string, result: CellResult, run: CategoryRun, heatmaps: number): Promise<void> {
  const { maps, size } = run.prediction;
  let lo = Infinity,
    hi = -Infinity;
  for (const v of maps) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  for (const i of heatmapChoice(run, heatmaps)) {
    const sample = run.test[i];
    const data = heatmapPanel({
      image: sample.image,
      mask: sample.mask,
      map: maps.subarray(i * size * size, (i + 1) * size * size),
      size,
      range: [lo, hi],
    });
    await writePngAtomic(join(outDir, 'heatmaps', `${sample.ref.id.replaceAll('/', '_')}.png`), {
      data,
      width: 3 * size,
      height: size,
      channels: 3,
    });
  }
  const csv = ['id,label,score', ...result.perImage.map((p) => `${p.id},${p.label},${p.score}`)].join('\n');
  await writeFileAtomic(join(outDir, 'scores.csv'), `${csv}\n`);
  await writeFileAtomic(join(outDir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
}
