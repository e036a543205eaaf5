/**
 * One sweep cell as an MLflow child run: where it comes from (user, source, commit, the code hash:
 * run-source.ts), the datasets it reads (dataset-inputs.ts), params (every config field,
 * flattened), per-epoch metrics with their step (CFA++: the companion model's as
 * `companion/train/…`; with per-epoch evaluation the test metrics as `test/…`), final metrics,
 * artifacts (result JSON, per-image scores, heatmaps), the trained model as an MLflow 3 LoggedModel
 * (cell-model.ts: the MLflow Model with its ONNX export and the bundle, the run's output, recorded
 * in `mlflow.log-model.history` as MLflow's `log_model` does) with the final metrics logged against
 * it and the test dataset, optionally MLflow's system metrics while it computes, and a status —
 * FINISHED, or FAILED with the error as a tag. Used by the local executor and by queue workers
 * alike, so both log identical runs; `train-eval` logs its run the same way (no parent).
 *
 * Tracking never holds up the computation beyond one request deadline (the spooling store's); a
 * 401/403 is no cell failure but a wrong setup: it is thrown, and the sweep stops.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineSelection } from '@cfa/tensor-runtime';
import { ensureSyntheticDataset } from '@cfa/data';
import type { EmbeddingCache, EpochRecord, RunProgress } from '@cfa/method-kit';
import {
  isAuthError,
  type LoggedModel,
  type Metric,
  MLFLOW_TAGS,
  type Run,
  searchAllRuns,
  startSystemMetrics,
  type TrackingStore,
} from '@cfa/tracking';
import type { SweepCell } from '../sweep/expand-sweep';
import { type CellMetrics, type CellResult, runCell } from '../run/run-cell';
import { DEFAULT_SYNTHETIC_ROOT, methodConfigOf } from '../run/run-config';
import { sharedFields } from '../methods/registry';
import { datasetInputs } from './dataset-inputs';
import { flattenConfig } from './flatten';
import { runSource, runSourceTags, SOURCE_TAGS } from './run-source';
import { LOGGED_MODELS_TAG, MLFLOW_MODEL_DIR } from '../export/mlflow-model';
import { BUNDLE_DIR, logCellModel, testDatasetOf } from './cell-model';

export const CFA_TAGS = {
  sweep: 'cfa.sweep',
  sweepKey: 'cfa.sweep.key',
  cellKey: 'cfa.cell.key',
  category: 'cfa.category',
  /** The method (`cfa`, `patchcore`, …; also the `method` param). */
  method: 'cfa.method',
  /** `file` (a weight file) or `random` (seeded init: numbers are not the paper's). */
  weights: 'cfa.weights',
  /** The hash of the sources that computed the run (code-version.ts). */
  codeHash: SOURCE_TAGS.codeHash,
  engine: 'cfa.engine',
  threads: 'cfa.engine.threads',
  tfBackend: 'cfa.tf_backend',
  error: 'cfa.error',
  worker: 'cfa.worker',
  attempt: 'cfa.attempt',
  /** 'none' or 'cfa++' (also the `ensemble` param). */
  ensemble: 'cfa.ensemble',
  /** CFA++: the two views averaged, primary first (`center-crop:256:224 + resize:224`). */
  ensembleViews: 'cfa.ensemble.views',
  /** 'last', or 'best-on-test' (the reference code's protocol: each metric's best epoch on the test set). */
  selection: 'cfa.selection',
  /** best-on-test: which epoch each reported metric came from (`image_auroc=3 pixel_auroc=2 …`). */
  selectedEpochs: 'cfa.selection.epochs',
  /** The feature taps ('reference' or 'torchvision') and the defaults preset. */
  taps: 'cfa.taps',
  preset: 'cfa.preset',
  /** The backbone (on logged models; runs have it as the `backbone.name` param). */
  backbone: 'cfa.backbone',
  /** Why the trained model is not a logged model (yet): it stays among the run's artifacts for `sync-runs`. */
  loggedModelError: 'cfa.logged_model.error',
} as const;

/**
 * The MLflow key of one value of an epoch record: `train/<snake_case>` (CFA's `lossAtt` →
 * `train/loss_att`), the epoch's duration as `train/epoch_seconds`; the CFA++ companion's carry
 * `COMPANION_PREFIX`.
 */
export function epochMetricKey(name: string): string {
  return name === 'seconds' ? 'train/epoch_seconds' : `train/${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
}

/** CFA++: the companion model's per-epoch metrics are `companion/train/loss`, … (own steps 1…epochs). */
export const COMPANION_PREFIX = 'companion/';

/** One epoch as MLflow metrics — every value the method recorded but the epoch number — at step = epoch. */
export function epochMetrics(e: EpochRecord, prefix = '', timestamp = Date.now()): Metric[] {
  // `seconds` last, as the per-epoch charts have always listed it
  const names = Object.keys(e).filter((k) => k !== 'epoch' && k !== 'seconds');
  return [...names, 'seconds'].map((k) => ({
    key: `${prefix}${epochMetricKey(k)}`,
    value: e[k],
    timestamp,
    step: e.epoch,
  }));
}

/** MLflow keys of the evaluation metrics (final, and `test/…` per epoch). */
export const EVALUATION_METRIC_KEYS = {
  imageAuroc: 'image_auroc',
  pixelAuroc: 'pixel_auroc',
  pixelAupro: 'pixel_aupro',
  pixelProReference: 'pixel_pro_reference',
  imageF1Max: 'image_f1_max',
  pixelF1Max: 'pixel_f1_max',
} as const satisfies Record<keyof CellMetrics, string>;

/** One epoch's test metrics (per-epoch evaluation) as `test/<key>` at step = epoch. */
export function epochTestMetrics(epoch: number, m: CellMetrics, timestamp = Date.now()): Metric[] {
  return (Object.keys(EVALUATION_METRIC_KEYS) as (keyof CellMetrics)[]).map((k) => ({
    key: `test/${EVALUATION_METRIC_KEYS[k]}`,
    value: m[k],
    timestamp,
    step: epoch,
  }));
}

const EVALUATION_KEYS = new Set<string>(Object.values(EVALUATION_METRIC_KEYS));

/**
 * Final metrics as MLflow keys. With `link`: every value is the logged model's (`modelId`), and
 * the evaluation metrics name the test set they were measured on.
 */
export function finalMetrics(
  result: CellResult,
  timestamp = Date.now(),
  link: { modelId?: string; dataset?: { datasetName: string; datasetDigest: string } } = {},
): Metric[] {
  const m = result.metrics;
  const t = result.timings;
  const values: Record<string, number> = {
    ...Object.fromEntries(
      (Object.keys(EVALUATION_METRIC_KEYS) as (keyof CellMetrics)[]).map((k) => [EVALUATION_METRIC_KEYS[k], m[k]]),
    ),
    throughput_img_s: t.throughputImagesPerSecond,
    score_throughput_img_s: t.scoreThroughputImagesPerSecond,
    train_seconds: t.trainSeconds,
    bank_seconds: t.bankSeconds,
    embed_seconds: t.embedTrainSeconds + t.embedTestSeconds,
    total_seconds: t.totalSeconds,
    // per image, from cached features: the method comparison's time columns
    fit_ms_per_image: (1000 * (t.bankSeconds + t.trainSeconds)) / Math.max(1, result.counts.train),
    score_ms_per_image: (1000 * t.predictSeconds) / Math.max(1, result.counts.test),
    // what the model keeps (the method comparison's memory column), and CFA's learned radius
    bank_bytes: result.model.bankBytes,
    ...(result.model.bankSize !== undefined ? { bank_size: result.model.bankSize } : {}),
    ...(result.model.radius !== undefined ? { radius: result.model.radius } : {}),
    // per-position Gaussians (PaDiM, FYD): how much of the features' spread is left within positions
    ...(result.model.withinPositionShare !== undefined
      ? { within_position_share: result.model.withinPositionShare }
      : {}),
    ...(result.ensemble?.companion.summary.radius !== undefined
      ? { companion_radius: result.ensemble.companion.summary.radius }
      : {}),
    // the deployed thresholds, set on held-out train images (the test set's F1 ones are metrics)
    ...(result.thresholds
      ? { threshold_image: result.thresholds.image, threshold_pixel: result.thresholds.pixel }
      : {}),
  };
  return Object.entries(values).map(([key, value]) => ({
    key,
    value,
    timestamp,
    step: 0,
    ...(link.modelId ? { modelId: link.modelId } : {}),
    ...(link.dataset && EVALUATION_KEYS.has(key) ? link.dataset : {}),
  }));
}

/** The final metrics' keys (whatever a result holds), for a later model made from a run. */
export const FINAL_METRIC_KEYS: ReadonlySet<string> = new Set([
  ...EVALUATION_KEYS,
  'throughput_img_s',
  'score_throughput_img_s',
  'train_seconds',
  'bank_seconds',
  'embed_seconds',
  'total_seconds',
  'bank_bytes',
  'bank_size',
  'radius',
  'within_position_share',
  'companion_radius',
  'threshold_image',
  'threshold_pixel',
]);
export const EVALUATION_METRIC_KEY_SET: ReadonlySet<string> = EVALUATION_KEYS;

export interface CellRunRecord {
  run: Run;
  status: string;
}

/** The child runs of `parentRunId` for one cell key, newest first. */
export async function findCellRuns(
  store: TrackingStore,
  experimentId: string,
  parentRunId: string,
  cellKey: string,
): Promise<Run[]> {
  return searchAllRuns(store, {
    experimentIds: [experimentId],
    filter: `tags.\`${MLFLOW_TAGS.parentRunId}\` = '${parentRunId}' AND tags.\`${CFA_TAGS.cellKey}\` = '${cellKey}'`,
  });
}

export interface TrackedCellOptions {
  store: TrackingStore;
  experimentId: string;
  /** The sweep's parent run; absent for a run of its own (`train-eval`). */
  parentRunId?: string;
  sweepName: string;
  cell: SweepCell;
  engine: EngineSelection;
  cache?: EmbeddingCache;
  /** Local folder for the cell's outputs (uploaded as artifacts). */
  outDir: string;
  /** How long to wait for another attempt writing `outDir` (default 0: refuse at once, naming it). */
  outLockWaitMs?: number;
  extraTags?: Record<string, string>;
  onProgress?: (event: RunProgress) => void;
  /** Besides logging them: the epochs, for a progress display. */
  onEpoch?: (record: EpochRecord) => void;
  onCompanionEpoch?: (record: EpochRecord) => void;
  log?: (line: string) => void;
  /**
   * Asked just before the run is marked FINISHED: a reason string means this attempt no longer
   * owns the cell (a queue worker that lost its job lock), and the run is closed KILLED instead.
   */
  ownershipLost?: (runId: string) => Promise<string | undefined>;
  /** Sample CPU, memory, disk, network and GPU while the cell computes and log them as MLflow's `system/…` metrics. */
  systemMetrics?: boolean;
}

/**
 * Why this attempt's run may not be marked FINISHED: another attempt that took the cell over
 * closes the old run KILLED first, and that must never be overwritten. Undefined while the run is
 * still RUNNING — or when the tracking server cannot say (an outage: the cell goes on, spooled).
 */
export async function runClosedByAnotherAttempt(store: TrackingStore, runId: string): Promise<string | undefined> {
  const status = await store.getRun(runId).then(
    (r) => r.info.status,
    () => 'RUNNING',
  );
  return status === 'RUNNING' ? undefined : `another attempt closed this run (${status}) while it was still computing`;
}

/** Closes a run KILLED with the reason as its `cfa.error` tag (a dead, stalled or superseded attempt). */
export async function closeRunKilled(
  store: TrackingStore,
  runId: string,
  reason: string,
  endTime = Date.now(),
): Promise<void> {
  await store.setTag(runId, CFA_TAGS.error, reason);
  await store.updateRun({ runId, status: 'KILLED', endTime });
}

/** Raised when an attempt finished its work but another attempt owns the cell by now. */
export class CellSupersededError extends Error {
  override readonly name = 'CellSupersededError';
}

/**
 * Every file of the run's folder as an artifact. Hidden entries are never uploaded: a `.tmp-…` file
 * is a write that did not finish (a run folder is swapped in whole, so none should be there), and
 * a published MLflow Model must not carry one.
 */
async function uploadFolder(
  store: TrackingStore,
  runId: string,
  dir: string,
  prefix = '',
  skip: ReadonlySet<string> = new Set(),
): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.name.startsWith('.')) continue;
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (skip.has(rel)) continue;
    if (e.isDirectory()) await uploadFolder(store, runId, join(dir, e.name), rel, skip);
    else await store.logArtifact(runId, rel, await readFile(join(dir, e.name)));
  }
}

export async function runTrackedCell(
  options: TrackedCellOptions,
): Promise<{ runId: string; result?: CellResult; error?: Error; model?: LoggedModel }> {
  const { store, experimentId, parentRunId, sweepName, cell, engine } = options;
  const config = cell.config;
  const { evaluation } = sharedFields(config);
  const source = await runSource();
  const run = await store.createRun({
    experimentId,
    runName: cell.name,
    parentRunId,
    userId: source.user,
    tags: {
      ...runSourceTags(source),
      [CFA_TAGS.sweep]: sweepName,
      [CFA_TAGS.cellKey]: cell.key,
      [CFA_TAGS.category]: cell.category,
      [CFA_TAGS.method]: config.method,
      [CFA_TAGS.weights]: config.backbone.weights ? 'file' : 'random',
      [CFA_TAGS.engine]: engine.name,
      [CFA_TAGS.threads]: String(engine.threads),
      [CFA_TAGS.tfBackend]: engine.tf.backend,
      [CFA_TAGS.ensemble]: config.ensemble,
      ...(evaluation ? { [CFA_TAGS.selection]: evaluation.selection } : {}),
      [CFA_TAGS.taps]: config.backbone.taps,
      ...('preset' in config ? { [CFA_TAGS.preset]: config.preset } : {}),
      ...options.extraTags,
    },
  });
  const runId = run.info.runId;
  const flatParams = flattenConfig({ dataset: config.dataset, ...methodConfigOf(config), heatmaps: config.heatmaps });
  let loggedModel: Record<string, unknown> | undefined;
  const logEpoch = (prefix: string, also?: (e: EpochRecord) => void) => (e: EpochRecord) => {
    also?.(e);
    void store
      .logBatch(runId, { metrics: epochMetrics(e, prefix) })
      .catch((error: Error) => options.log?.(`could not log ${prefix}epoch ${e.epoch}: ${error.message}`));
  };
  try {
    await store.logBatch(runId, { params: Object.entries(flatParams).map(([key, value]) => ({ key, value })) });
    const dataRoot = config.dataset.root ?? DEFAULT_SYNTHETIC_ROOT;
    if (!config.dataset.root) {
      // the dataset input names the files, so they must exist; only this cell's category is drawn
      const { category } = config.dataset;
      const ensured = await ensureSyntheticDataset({ root: dataRoot, categories: [category] });
      if (ensured.generated) options.log?.(`generated the embedded synthetic category ${category} in ${dataRoot}`);
    }
    const inputs = await datasetInputs({ root: dataRoot, category: config.dataset.category });
    await store.logInputs(runId, inputs);
    const monitor = options.systemMetrics
      ? startSystemMetrics({
          store,
          runId,
          onError: (error) => options.log?.(`system metrics: ${error.message}`),
        })
      : undefined;
    const result = await runCell({
      config,
      engine,
      outDir: options.outDir,
      outLockWaitMs: options.outLockWaitMs,
      cache: options.cache,
      onProgress: options.onProgress,
      log: options.log,
      onEpoch: logEpoch('', options.onEpoch),
      onCompanionEpoch: logEpoch(COMPANION_PREFIX, options.onCompanionEpoch),
      onEpochMetrics: (epoch, m) => {
        void store
          .logBatch(runId, { metrics: epochTestMetrics(epoch, m) })
          .catch((error: Error) => options.log?.(`could not log the test metrics of epoch ${epoch}: ${error.message}`));
      },
      mlflowRunId: runId,
      onMlflowModel: (m) => (loggedModel = m),
    }).finally(() => monitor?.stop());
    if (result.ensemble) await store.setTag(runId, CFA_TAGS.ensembleViews, result.ensemble.views.join(' + '));
    if (result.selection.kind === 'best-on-test') {
      const epochs = Object.entries(result.selection.epochOf).map(
        ([k, e]) => `${EVALUATION_METRIC_KEYS[k as keyof CellMetrics]}=${e}`,
      );
      await store.setTag(runId, CFA_TAGS.selectedEpochs, epochs.join(' '));
    }
    let model: LoggedModel | undefined;
    if (result.savedModel?.bundle || result.savedModel?.mlflowModel) {
      try {
        model = await logCellModel({
          store,
          experimentId,
          runId,
          name: cell.name,
          params: flatParams,
          tags: {
            [CFA_TAGS.method]: config.method,
            [CFA_TAGS.backbone]: config.backbone.name,
            [CFA_TAGS.category]: cell.category,
            [CFA_TAGS.cellKey]: cell.key,
            [CFA_TAGS.sweep]: sweepName,
            [CFA_TAGS.ensemble]: config.ensemble,
          },
          outDir: options.outDir,
        });
      } catch (error) {
        if (isAuthError(error)) throw error;
        const message = (error as Error).message;
        options.log?.(
          `the trained model of ${cell.name} is not an MLflow logged model yet (${message.split('\n')[0]}); it stays among the run's artifacts (${BUNDLE_DIR}/, ${MLFLOW_MODEL_DIR}/), from which sync-runs makes it once the server takes it`,
        );
        await store.setTag(runId, CFA_TAGS.loggedModelError, message.slice(0, 8000));
      }
    }
    await store.logBatch(runId, {
      metrics: finalMetrics(result, Date.now(), { modelId: model?.modelId, dataset: testDatasetOf(inputs) }),
    });
    const undefinedNotes = Object.entries(result.metrics.undefinedMetrics);
    if (undefinedNotes.length)
      await store.setTag(runId, 'cfa.undefined_metrics', undefinedNotes.map(([k, v]) => `${k}: ${v}`).join('; '));
    // the model's folders live in the logged model; a run whose model could not be logged keeps them
    await uploadFolder(store, runId, options.outDir, '', model ? new Set([BUNDLE_DIR, MLFLOW_MODEL_DIR]) : undefined);
    // what MLflow's log_model records (MLflow 3: with the model's id and its own folder)
    if (loggedModel)
      await store.setTag(
        runId,
        LOGGED_MODELS_TAG,
        JSON.stringify([
          model ? { ...loggedModel, artifact_path: model.artifactUri, model_id: model.modelId } : loggedModel,
        ]),
      );
    const lost = await options.ownershipLost?.(runId);
    if (lost) {
      await closeRunKilled(store, runId, `superseded: ${lost}`);
      return { runId, error: new CellSupersededError(lost) };
    }
    await store.updateRun({ runId, status: 'FINISHED', endTime: Date.now() });
    return { runId, result, ...(model ? { model } : {}) };
  } catch (error) {
    // credentials or permissions: not this cell's fault, and no other cell can log either
    if (isAuthError(error)) throw error;
    const message = (error as Error).message;
    await store.setTag(runId, CFA_TAGS.error, message.slice(0, 8000)).catch(() => undefined);
    await store.updateRun({ runId, status: 'FAILED', endTime: Date.now() }).catch(() => undefined);
    return { runId, error: error as Error };
  }
}
