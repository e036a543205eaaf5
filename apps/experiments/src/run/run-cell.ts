/**
 * One run from config to numbers and pictures: CFA (or CFA++, `cfa.ensemble`) on one category,
 * then the metrics, the result JSON, per-image scores, and the run's pictures (`cell-plots.ts`:
 * ROC and PRO curves, the feature space before / after adaptation, heatmap panels). Used by `train-eval`,
 * by every sweep cell and by queue workers alike.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineSelection } from '@cfa/tensor-runtime';
import { describeEngine } from '@cfa/tensor-runtime';
import { ensureSyntheticDataset } from '@cfa/data';
import {
  type CategoryRun,
  type EmbeddingCache,
  type EnsembleMemberRun,
  type EpochRecord,
  runCfaOnCategory,
  type RunProgress,
} from '@cfa/cfa';
import { computeAnomalyMetrics } from '@cfa/metrics';
import { writeCellPlots } from '../report/cell-plots';
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
  timings: CategoryRun['timings'] & {
    totalSeconds: number;
    /** Test images / (embedding + scoring) seconds: the backbone is in it only when the feature cache was cold. */
    throughputImagesPerSecond: number;
    /** Test images / scoring seconds (descriptor, distances, map): what compression changes (Table 6). */
    scoreThroughputImagesPerSecond: number;
  };
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
  /** Folder for result.json, scores.csv, plots/ and heatmaps/ (skipped when absent). */
  outDir?: string;
  cache?: EmbeddingCache;
  onProgress?: (event: RunProgress) => void;
  onEpoch?: (record: EpochRecord) => void;
  /** CFA++ only: the companion model's epochs. */
  onCompanionEpoch?: (record: EpochRecord) => void;
  log?: (line: string) => void;
}

export async function runCell(options: RunCellOptions): Promise<CellResult> {
  const { config, engine, outDir, log = () => undefined } = options;
  const start = performance.now();
  const dataRoot = config.dataset.root ?? DEFAULT_SYNTHETIC_ROOT;
  if (!config.dataset.root) {
    // only this cell's category: a sweep over two categories need not draw all fifteen
    const category = config.dataset.category;
    const ensured = await ensureSyntheticDataset({ root: dataRoot, categories: [category] });
    for (const r of ensured.regenerated)
      log(`${join(dataRoot, r.category)} was written by synthetic generator version ${r.fromVersion}: regenerated`);
    log(
      ensured.generated
        ? `generated the embedded synthetic category ${category} in ${dataRoot}`
        : `using the embedded synthetic category ${category} in ${dataRoot}`,
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
      scoreThroughputImagesPerSecond: n / run.timings.predictSeconds,
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
  if (outDir) await writeOutputs(outDir, result, run, { masks, labels, engine, log });
  return result;
}

async function writeOutputs(
  outDir: string,
  result: CellResult,
  run: CategoryRun,
  options: { masks: Uint8Array; labels: Uint8Array; engine: EngineSelection; log: (line: string) => void },
): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  const csv = ['id,label,score', ...result.perImage.map((p) => `${p.id},${p.label},${p.score}`)].join('\n');
  await writeFile(join(outDir, 'scores.csv'), `${csv}\n`);
  await writeCellPlots({ outDir, run, config: result.config, metrics: result.metrics, ...options });
}
