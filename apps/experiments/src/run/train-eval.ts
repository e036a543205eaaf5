/**
 * One train-eval run, whatever the method: train and evaluate on one category, write the run's
 * folder, log it to MLflow like a one-cell sweep (the local store `./mlruns` unless a tracking URI
 * is given) — its trained model an MLflow 3 logged model — and, with `register`, register that
 * model as a version in the server's Model Registry (`alias`: name it, e.g. `champion`). The
 * command line (cli/train-eval.ts) only parses options into the config this takes.
 */
import type { EngineSelection } from '@cfa/tensor-runtime';
import { DiskEmbeddingCache, type EpochRecord, type RunProgress } from '@cfa/method-kit';
import { createTrackingStore, type LoggedModel, ModelRegistryClient } from '@cfa/tracking';
import { checkOutputFolder } from '@cfa/io';
import { methodOf } from '../methods/registry';
import { aliasProblem, registerLoggedModel } from '../tracking/register-models';
import { cellKey } from '../sweep/expand-sweep';
import { checkLocalTrackingStore } from '../tracking/local-store-check';
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
  /** Register the run's logged model under this name (an MLflow server only). */
  register?: string;
  /** With `register`: point this alias at the new version. */
  alias?: string;
  /** Log MLflow's system metrics (CPU, memory, GPU, …) while the run computes. */
  systemMetrics?: boolean;
  onProgress?: (event: RunProgress) => void;
  /** The primary model's epochs; ensembles: the companion's through `onCompanionEpoch`. */
  onEpoch?: (record: EpochRecord) => void;
  onCompanionEpoch?: (record: EpochRecord) => void;
  log: (line: string) => void;
}

export interface TrainEvalOutcome {
  result: CellResult;
  /** Where the run was logged. */
  logged?: { location: string; runId: string; artifactUri: string; model?: LoggedModel };
  /** The registered version, as a sentence. */
  registered?: string;
}

/** Why `--register NAME` cannot work with these options, found before any work (undefined: it can). */
export function registerProblem(
  options: Pick<TrainEvalOptions, 'config' | 'tracking' | 'trackingUri' | 'register' | 'alias'>,
) {
  const { register, tracking, trackingUri, config } = options;
  const alias = aliasProblem(options);
  if (alias) return alias;
  if (register === undefined) return undefined;
  if (!tracking) return '--no-tracking logs nothing to register';
  if (!/^https?:\/\//i.test(trackingUri ?? ''))
    return 'the Model Registry is an MLflow server API: pass --tracking-uri http://… (or set MLFLOW_TRACKING_URI)';
  if (!config.model.mlflow && !config.model.bundle)
    return 'the run writes no model (model.bundle and model.mlflow are both false in the config)';
  if (!register.trim() || /[/:]/.test(register)) return `'${register}' is not a model name (empty, or with '/' or ':')`;
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
  await checkLocalTrackingStore(store, ', or --no-tracking');
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
      systemMetrics: options.systemMetrics,
    });
    if (tracked.error || !tracked.result)
      throw new Error(`${tracked.error?.message ?? 'no result'} (MLflow run ${tracked.runId} marked FAILED)`);
    result = tracked.result;
    const run = await store.getRun(tracked.runId);
    logged = {
      location: store.location,
      runId: tracked.runId,
      artifactUri: run.info.artifactUri,
      ...(tracked.model ? { model: tracked.model } : {}),
    };
  } finally {
    await store.close();
  }
  if (options.register === undefined) return { result, logged };
  if (!logged.model)
    throw new Error(
      `--register ${options.register}: run ${logged.runId}'s model is not a logged model on ${logged.location} (see its cfa.logged_model.error tag), so there is nothing to register`,
    );
  // the registry reads the same credentials (MLFLOW_TRACKING_USERNAME / _PASSWORD, _TOKEN) as the store
  const registry = new ModelRegistryClient({ uri: options.trackingUri!, env: process.env });
  try {
    const { version, created } = await registerLoggedModel(registry, {
      name: options.register,
      model: logged.model,
      description: `${methodOf(config).label} ${config.backbone.name} on ${config.dataset.category} (train-eval)`,
    });
    if (options.alias) await registry.setAlias(version.name, options.alias, version.version);
    const registered =
      `${created ? 'registered' : 'already registered:'} logged model ${logged.model.modelId} of run ${logged.runId} as '${version.name}' version ${version.version} (models:/${version.name}/${version.version})` +
      (options.alias ? `, alias ${options.alias} (models:/${version.name}@${options.alias})` : '');
    return { result, logged, registered };
  } finally {
    await registry.close();
  }
}
