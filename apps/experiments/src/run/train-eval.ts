/**
 * One train-eval run, whatever the method: train and evaluate on one category, write the run's
 * folder, log it to MLflow like a one-cell sweep (the local store `./mlruns` unless a tracking URI
 * is given) and, with `register`, register its MLflow Model in the server's Model Registry. The
 * command line (cli/train-eval.ts) only parses options into the config this takes.
 */
import type { EngineSelection } from '@cfa/tensor-runtime';
import { DiskEmbeddingCache, type EpochRecord, type RunProgress } from '@cfa/method-kit';
import { createTrackingStore, ModelRegistryClient, registerModelVersion } from '@cfa/tracking';
import { checkOutputFolder } from '@cfa/io';
import { MLFLOW_MODEL_DIR } from '../export/mlflow-model';
import { methodOf } from '../methods/registry';
import { cellKey } from '../sweep/expand-sweep';
import { runTrackedCell } from '../tracking/tracked-cell';
import { type CellResult, runCell } from './run-cell';
import type { RunConfig } from './run-config';

/** The MLflow experiment train-eval runs are logged to. */
export const TRAIN_EVAL_EXPERIMENT = 'train-eval';

export interface TrainEvalOptions {
  config: RunConfig;
  engine: EngineSelection;
  outDir: string;
  /** Keep backbone features on disk here and reuse them across runs. */
  featureCache?: string;
  tracking: boolean;
  trackingUri?: string;
  /** Register the run's MLflow Model under this name (an MLflow server only). */
  register?: string;
  onProgress?: (event: RunProgress) => void;
  /** The primary model's epochs; ensembles: the companion's through `onCompanionEpoch`. */
  onEpoch?: (record: EpochRecord) => void;
  onCompanionEpoch?: (record: EpochRecord) => void;
  log: (line: string) => void;
}

export interface TrainEvalOutcome {
  result: CellResult;
  /** Where the run was logged. */
  logged?: { location: string; runId: string; artifactUri: string };
  /** The registered version, as a sentence. */
  registered?: string;
}

/** Why `--register NAME` cannot work with these options, found before any work (undefined: it can). */
export function registerProblem(options: Pick<TrainEvalOptions, 'config' | 'tracking' | 'trackingUri' | 'register'>) {
  const { register, tracking, trackingUri, config } = options;
  if (register === undefined) return undefined;
  if (!tracking) return '--no-tracking logs nothing to register';
  if (!/^https?:\/\//i.test(trackingUri ?? ''))
    return 'the Model Registry is an MLflow server API: pass --tracking-uri http://… (or set MLFLOW_TRACKING_URI)';
  if (!config.model.mlflow) return 'the run writes no MLflow Model (model.mlflow is false in the config)';
  if (!register.trim()) return 'the name is empty';
  return undefined;
}

export async function runTrainEval(options: TrainEvalOptions): Promise<TrainEvalOutcome> {
  const { config, engine, outDir, log } = options;
  if (options.featureCache) await checkOutputFolder(options.featureCache, '--feature-cache');
  const cellOptions = {
    engine,
    outDir,
    cache: options.featureCache ? new DiskEmbeddingCache(options.featureCache) : undefined,
    onProgress: options.onProgress,
    onEpoch: options.onEpoch,
    onCompanionEpoch: options.onCompanionEpoch,
    log,
  };
  if (!options.tracking) return { result: await runCell({ ...cellOptions, config }) };
  // logged like a one-cell sweep: the same params, metrics, artifacts and tags as a sweep's child run
  const store = createTrackingStore({ uri: options.trackingUri });
  let result: CellResult;
  let logged: NonNullable<TrainEvalOutcome['logged']>;
  try {
    const experimentId = await store.getOrCreateExperiment(TRAIN_EVAL_EXPERIMENT);
    const tracked = await runTrackedCell({
      ...cellOptions,
      store,
      experimentId,
      sweepName: TRAIN_EVAL_EXPERIMENT,
      cell: {
        key: cellKey(config),
        name: `${config.dataset.category} train-eval`,
        category: config.dataset.category,
        seed: config.seed,
        assignments: {},
        config,
      },
    });
    if (tracked.error || !tracked.result)
      throw new Error(`${tracked.error?.message ?? 'no result'} (MLflow run ${tracked.runId} marked FAILED)`);
    result = tracked.result;
    const run = await store.getRun(tracked.runId);
    logged = { location: store.location, runId: tracked.runId, artifactUri: run.info.artifactUri };
  } finally {
    await store.close();
  }
  if (options.register === undefined) return { result, logged };
  const registry = new ModelRegistryClient({ uri: options.trackingUri! });
  try {
    const version = await registerModelVersion(registry, {
      name: options.register,
      source: `${logged.artifactUri}/${MLFLOW_MODEL_DIR}`,
      runId: logged.runId,
      description: `${methodOf(config).label} ${config.backbone.name} on ${config.dataset.category} (train-eval)`,
    });
    const registered = `registered ${MLFLOW_MODEL_DIR} of run ${logged.runId} as model '${version.name}' version ${version.version} (models:/${version.name}/${version.version})`;
    return { result, logged, registered };
  } finally {
    await registry.close();
  }
}
