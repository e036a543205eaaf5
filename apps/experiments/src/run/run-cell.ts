/**
 * One run from config to numbers and pictures: the config's method (`method`; as its two-view
 * ensemble with `ensemble: cfa++`) on one category, then the metrics, the result JSON, per-image scores, the run's pictures (`cell-plots.ts`: ROC and
 * PRO curves, the feature space before / after adaptation, heatmap panels) and the trained model
 * (`model.bundle`: the bundle in `model/`; `model.mlflow`: the ONNX export as an MLflow Model in
 * `mlflow-model/`). Used by `train-eval`, by every sweep cell and by queue workers alike.
 *
 * The run's folder appears whole or not at all (@cfa/io's staged folder): its lock is taken before
 * the work (a second run into it is refused at once, naming the first), everything is written into
 * a staging folder beside it and swapped in at the end; an error, a full disk or Ctrl-C leave the
 * previous run's outputs as they were. The metrics are logged before anything is written.
 */
import { join } from 'node:path';
import type { EngineSelection } from '@cfa/tensor-runtime';
import { describeEngine } from '@cfa/tensor-runtime';
import { ensureSyntheticDataset, listCategories, SYNTHETIC_SETS } from '@cfa/data';
import {
  type CategoryRun,
  type EmbeddingCache,
  type EnsembleMemberRun,
  type EpochRecord,
  evaluatesEveryEpoch,
  type ModelSummary,
  type Prediction,
  runMethodOnCategory,
  type RunProgress,
  saveModel,
  SharedFits,
  type Thresholds,
} from '@cfa/method-kit';
import { computeAnomalyMetrics } from '@cfa/metrics';
import { checkOutputFolder, openStagedFolder, type StagedFolder, writeFileAtomic } from '@cfa/io';
import { writeCellPlots } from '../report/cell-plots';
import { formatMetrics } from '../report/train-eval-summary';
import { MLFLOW_MODEL_DIR, writeMlflowModel } from '../export/mlflow-model';
import { methodOf, sharedFields } from '../methods/registry';
import { DEFAULT_SYNTHETIC_ROOT, methodConfigOf, type RunConfig } from './run-config';

export interface CellMetrics {
  imageAuroc: number;
  pixelAuroc: number;
  pixelAupro: number;
  /** The reference code's PRO number ("P-PRO (ref)"), beside MVTec's P-AUPRO. */
  pixelProReference: number;
  imageF1Max: number;
  pixelF1Max: number;
}

/** The metrics one evaluation reports (`computeAnomalyMetrics`). */
export type EvaluationMetrics = CellMetrics & {
  imageF1Threshold: number;
  pixelF1Threshold: number;
  undefinedMetrics: Record<string, string>;
};

/** The metrics `selection: best-on-test` takes the best epoch of, each on its own (as the reference code). */
export const SELECTED_METRICS = [
  'imageAuroc',
  'pixelAuroc',
  'pixelAupro',
  'pixelProReference',
  'imageF1Max',
  'pixelF1Max',
] as const satisfies readonly (keyof CellMetrics)[];

export interface CellResult {
  config: RunConfig;
  dataRoot: string;
  /** The reported metrics: the last epoch's, or with `selection: best-on-test` each metric's best epoch. */
  metrics: EvaluationMetrics;
  /**
   * With per-epoch evaluation: the test metrics after every epoch. `selection` says how `metrics`
   * was chosen; for best-on-test, which epoch each metric came from (test labels were used).
   */
  epochs?: { epoch: number; metrics: EvaluationMetrics }[];
  selection: { kind: 'last' } | { kind: 'best-on-test'; epochOf: Partial<Record<keyof CellMetrics, number>> };
  engine: { name: string; threads: number; tfBackend: string; description: string };
  backbone: { name: string; weights: string; featureChannels: number[] };
  /** train = fitted on; calibration = train images held out to set the thresholds. */
  counts: { train: number; calibration: number; test: number; anomalous: number };
  /**
   * The deployed thresholds, set on held-out train images (absent when `calibration.holdout` is 0);
   * `metrics.imageF1Threshold` / `pixelF1Threshold` are the test set's F1-optimal ones, a metric only.
   */
  thresholds?: Thresholds;
  /** The trained model's folders under the run's folder: the bundle (`model`) and the MLflow Model (`mlflow-model`). */
  savedModel?: { bundle?: string; mlflowModel?: string };
  /** The method's numbers describing the (primary) fitted model: CFA's bankSize, descriptorChannels, radius, bankBytes. */
  model: ModelSummary;
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
    companion: Pick<EnsembleMemberRun, 'history' | 'summary' | 'timings'>;
  };
}

export interface RunCellOptions {
  config: RunConfig;
  engine: EngineSelection;
  /**
   * Folder for result.json, scores.csv, plots/, heatmaps/ and the model (skipped when absent):
   * written whole or not at all (staged beside it, swapped in at the end, under its lock).
   */
  outDir?: string;
  /** How long to wait for another run writing `outDir` (default 0: refuse at once, naming it). */
  outLockWaitMs?: number;
  cache?: EmbeddingCache;
  onProgress?: (event: RunProgress) => void;
  onEpoch?: (record: EpochRecord) => void;
  /** CFA++ only: the companion model's epochs. */
  onCompanionEpoch?: (record: EpochRecord) => void;
  /** With per-epoch evaluation: the test metrics after each epoch. */
  onEpochMetrics?: (epoch: number, metrics: EvaluationMetrics) => void;
  log?: (line: string) => void;
  /** The MLflow run the outputs are logged to: named in the MLflow Model's MLmodel. */
  mlflowRunId?: string;
  /** Called with MLflow's summary of the logged model (the `mlflow.log-model.history` entry). */
  onMlflowModel?: (loggedModel: Record<string, unknown>) => void;
}

interface GroundTruth {
  masks: Uint8Array;
  labels: Uint8Array;
  size: number;
}

/** Masks and labels of the test samples, stacked for the metrics and the pictures. */
function groundTruth(test: CategoryRun['test'], size: number): GroundTruth {
  const masks = new Uint8Array(test.length * size * size);
  test.forEach((s, i) => masks.set(s.mask, i * size * size));
  return { masks, labels: Uint8Array.from(test, (s) => s.ref.label), size };
}

function evaluate(prediction: Prediction, { masks, labels, size }: GroundTruth): EvaluationMetrics {
  return computeAnomalyMetrics({
    imageScores: prediction.imageScores,
    imageLabels: labels,
    maps: prediction.maps,
    masks,
    count: labels.length,
    height: size,
    width: size,
  });
}

/**
 * The reference code's report: for each metric on its own, the best value over the epochs (its
 * trainer keeps `best_img_roc`, `best_pxl_roc`, `best_pxl_pro` apart), and the epoch it came from.
 */
export function bestOnTest(epochs: { epoch: number; metrics: EvaluationMetrics }[]): {
  metrics: EvaluationMetrics;
  epochOf: Partial<Record<keyof CellMetrics, number>>;
} {
  const last = epochs[epochs.length - 1].metrics;
  const metrics: EvaluationMetrics = { ...last, undefinedMetrics: { ...last.undefinedMetrics } };
  const epochOf: Partial<Record<keyof CellMetrics, number>> = {};
  for (const key of SELECTED_METRICS) {
    let best: { epoch: number; value: number } | undefined;
    for (const e of epochs) {
      const value = e.metrics[key];
      if (Number.isFinite(value) && (!best || value > best.value)) best = { epoch: e.epoch, value };
    }
    if (!best) continue;
    metrics[key] = best.value;
    epochOf[key] = best.epoch;
    delete metrics.undefinedMetrics[key];
  }
  return { metrics, epochOf };
}

/**
 * The unified setting's fits, kept for later cells: a sweep's unified cells differ only in the
 * category they evaluate, so they share one model per seed and setting (its cells come category by
 * category, each over the seeds: a few are kept, the oldest dropped first, to bound memory).
 */
const UNIFIED_FITS = new SharedFits(8);

/** The categories a unified run fits on: the config's, else every standard category of the data root. */
async function unifiedTrainCategories(config: RunConfig, dataRoot: string): Promise<string[] | undefined> {
  if (!methodOf(config).unified?.(methodConfigOf(config) as never)) return undefined;
  if (config.dataset.trainCategories) return config.dataset.trainCategories;
  return config.dataset.root ? listCategories(dataRoot) : [...SYNTHETIC_SETS.standard];
}

/** What a run writes at the top of its folder; a folder holding anything else is not replaced by a rerun. */
export const RUN_OUTPUTS = ['result.json', 'scores.csv', 'plots', 'heatmaps', 'model', MLFLOW_MODEL_DIR] as const;

/**
 * The run's folder, taken before any work: one that cannot be written would lose the results after
 * training, and one another run is writing (its lock) or that holds other files is refused now.
 */
async function openRunFolder(outDir: string, waitMs = 0): Promise<StagedFolder> {
  await checkOutputFolder(outDir, '--out');
  return openStagedFolder(outDir, { what: '--out', outputs: RUN_OUTPUTS, waitMs });
}

export async function runCell(options: RunCellOptions): Promise<CellResult> {
  const { outDir } = options;
  const folder = outDir ? await openRunFolder(outDir, options.outLockWaitMs) : undefined;
  try {
    return await computeAndWrite(options, folder);
  } finally {
    // an error or an interrupt leaves the previous outputs as they were, and no staging folder
    await folder?.discard();
  }
}

async function computeAndWrite(options: RunCellOptions, folder: StagedFolder | undefined): Promise<CellResult> {
  const { config, engine, log = () => undefined } = options;
  const start = performance.now();
  const dataRoot = config.dataset.root ?? DEFAULT_SYNTHETIC_ROOT;
  const trainCategories = await unifiedTrainCategories(config, dataRoot);
  if (!config.dataset.root) {
    // only this cell's categories: a sweep over two categories need not draw all fifteen
    const category = config.dataset.category;
    const categories = [...new Set([category, ...(trainCategories ?? [])])];
    const ensured = await ensureSyntheticDataset({ root: dataRoot, categories });
    for (const r of ensured.regenerated)
      log(`${join(dataRoot, r.category)} was written by synthetic generator version ${r.fromVersion}: regenerated`);
    log(
      ensured.generated
        ? `generated the embedded synthetic category ${categories.join(', ')} in ${dataRoot}`
        : `using the embedded synthetic category ${categories.join(', ')} in ${dataRoot}`,
    );
  }
  if (trainCategories)
    log(`unified: one model fitted on ${trainCategories.join(', ')}; evaluated on ${config.dataset.category}`);
  const epochs: { epoch: number; metrics: EvaluationMetrics }[] = [];
  // the test set is the same after every epoch: stacked once
  let epochTruth: GroundTruth | undefined;
  const run = await runMethodOnCategory({
    method: methodOf(config),
    config: methodConfigOf(config),
    root: dataRoot,
    category: config.dataset.category,
    engine,
    cache: options.cache,
    onProgress: options.onProgress,
    onEpoch: options.onEpoch,
    onCompanionEpoch: options.onCompanionEpoch,
    trainCategories,
    sharedFits: UNIFIED_FITS,
    onEpochPrediction: evaluatesEveryEpoch(sharedFields(config).evaluation)
      ? async ({ record, prediction, test }) => {
          epochTruth ??= groundTruth(test, prediction.size);
          const metrics = evaluate(prediction, epochTruth);
          epochs.push({ epoch: record.epoch, metrics });
          options.onEpochMetrics?.(record.epoch, metrics);
        }
      : undefined,
  });
  const n = run.test.length;
  const truth = groundTruth(run.test, run.prediction.size);
  const { masks, labels } = truth;
  const bestOf =
    sharedFields(config).evaluation?.selection === 'best-on-test' && epochs.length ? bestOnTest(epochs) : undefined;
  const metrics = bestOf?.metrics ?? evaluate(run.prediction, truth);
  const totalSeconds = (performance.now() - start) / 1000;
  const result: CellResult = {
    config,
    dataRoot,
    metrics,
    ...(epochs.length ? { epochs } : {}),
    selection: bestOf ? { kind: 'best-on-test', epochOf: bestOf.epochOf } : { kind: 'last' },
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
    counts: {
      train: run.trainCount,
      calibration: run.calibrationCount,
      test: n,
      anomalous: labels.reduce((a, b) => a + b, 0),
    },
    ...(run.thresholds ? { thresholds: run.thresholds } : {}),
    model: run.summary,
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
      companion: { history: companion.history, summary: companion.summary, timings: companion.timings },
    };
  }
  if (folder) {
    // the numbers first: a run that cannot write its outputs (a full disk) still shows them
    log(`${config.dataset.category}: ${formatMetrics(metrics)}; writing ${folder.target}`);
    try {
      // everything into the staging folder, then swapped in whole: a rerun never mixes two runs
      const stage = folder.path;
      result.savedModel = {};
      if (config.model.bundle) {
        await saveModel(join(stage, 'model'), run.model);
        result.savedModel.bundle = 'model';
      }
      if (config.model.mlflow) {
        const written = await writeMlflowModel(join(stage, MLFLOW_MODEL_DIR), run.model, {
          runId: options.mlflowRunId,
          artifactPath: options.mlflowRunId ? MLFLOW_MODEL_DIR : undefined,
        });
        result.savedModel.mlflowModel = MLFLOW_MODEL_DIR;
        options.onMlflowModel?.(written.loggedModel);
      }
      await writeOutputs(stage, result, run, { masks, labels, engine, log });
      await folder.commit();
    } catch (error) {
      throw new Error(
        `${folder.explain(error)} — the outputs of this run were not written and ${folder.target} is as it was; its metrics: ${formatMetrics(metrics)}`,
        { cause: error },
      );
    }
  }
  return result;
}

/** Pictures, scores.csv and result.json, into the staging folder (the swap makes them appear together). */
async function writeOutputs(
  outDir: string,
  result: CellResult,
  run: CategoryRun,
  options: { masks: Uint8Array; labels: Uint8Array; engine: EngineSelection; log: (line: string) => void },
): Promise<void> {
  await writeCellPlots({ outDir, run, config: result.config, metrics: result.metrics, ...options });
  const csv = ['id,label,score', ...result.perImage.map((p) => `${p.id},${p.label},${p.score}`)].join('\n');
  await writeFileAtomic(join(outDir, 'scores.csv'), `${csv}\n`);
  await writeFileAtomic(join(outDir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
}
