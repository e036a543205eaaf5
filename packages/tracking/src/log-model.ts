/**
 * A trained model logged as MLflow 3 does it (`Model.log` in `mlflow/models/model.py` and
 * `_use_logged_model` in `mlflow/tracking/fluent.py`): a LoggedModel created PENDING with its
 * params and tags and the run as its source, linked to the run as an output at a step, its files
 * uploaded to the model's own artifact folder, its metrics logged through the run with the model's
 * id (and the dataset they were measured on), then finalized READY — or UPLOAD_FAILED when a file
 * could not be uploaded, as MLflow marks it, before the error goes on to the caller.
 *
 * The files come from anywhere: `localFiles(dir)` reads a folder on disk (a run just trained),
 * `runArtifactFiles(store, runId, path)` a folder of a logged run's artifacts (a model made
 * afterwards from what a run logged, e.g. by `sync-runs` once a spool is delivered).
 *
 * @example
 * ```ts
 * const model = await logModel(store, {
 *   experimentId, runId, name: 'fleece-cfa', modelType: 'anomaly-detector',
 *   params: { method: 'cfa' }, files: await localFiles('runs/x/mlflow-model'),
 *   metrics: [{ key: 'image_auroc', value: 0.93, timestamp: Date.now(), step: 0, datasetName: 'fleece', datasetDigest }],
 * });
 * model.status; // 'READY'
 * ```
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoggedModel, Metric } from './entities';
import type { TrackingStore } from './tracking-store';

/** A file of a model, read when it is uploaded. */
export interface ModelFile {
  /** Relative to the model's artifact root, '/'-separated. */
  path: string;
  read(): Promise<Uint8Array>;
}

export interface LogModelRequest {
  experimentId: string;
  /** The run that trained it: its source, and the run its metrics are logged through. */
  runId: string;
  name?: string;
  modelType?: string;
  params?: Record<string, string>;
  tags?: Record<string, string>;
  /** The files, or a function of the created model giving them (e.g. an MLmodel that names its model_id). */
  files: ModelFile[] | ((model: LoggedModel) => ModelFile[] | Promise<ModelFile[]>);
  /** The model's metrics (their `modelId` is set here); logged through the run. */
  metrics?: Metric[];
  /** The step the run produced it at (MLflow's `LoggedModelOutput.step`). */
  step?: number;
}

/**
 * Every file under a local folder, `prefix`/… in the model (`prefix` '' for its root). Hidden
 * entries are left out: a `.tmp-…` file is a write that did not finish, and a published model must
 * not carry one (the run's own artifacts skip them the same way).
 */
export async function localFiles(dir: string, prefix = ''): Promise<ModelFile[]> {
  const out: ModelFile[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.')) continue;
    const path = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await localFiles(join(dir, e.name), path)));
    else out.push({ path, read: () => readFile(join(dir, e.name)) });
  }
  return out;
}

/** Every file under a folder of a run's artifacts, at `prefix`/… in the model (default: the folder's own name dropped). */
export async function runArtifactFiles(
  store: TrackingStore,
  runId: string,
  path: string,
  prefix = '',
): Promise<ModelFile[]> {
  const out: ModelFile[] = [];
  const base = path.replace(/^\/+|\/+$/g, '');
  const walk = async (dir: string) => {
    for (const entry of await store.listArtifacts(runId, dir)) {
      if (entry.isDir) await walk(entry.path);
      else {
        const rel = entry.path.slice(base.length).replace(/^\/+/, '');
        out.push({ path: prefix ? `${prefix}/${rel}` : rel, read: () => store.downloadArtifact(runId, entry.path) });
      }
    }
  };
  await walk(base);
  return out;
}

export async function logModel(store: TrackingStore, request: LogModelRequest): Promise<LoggedModel> {
  const model = await store.createLoggedModel({
    experimentId: request.experimentId,
    sourceRunId: request.runId,
    ...(request.name ? { name: request.name } : {}),
    ...(request.modelType ? { modelType: request.modelType } : {}),
    ...(request.params ? { params: request.params } : {}),
    ...(request.tags ? { tags: request.tags } : {}),
  });
  try {
    await store.logOutputs(request.runId, [{ modelId: model.modelId, step: request.step ?? 0 }]);
    const files = typeof request.files === 'function' ? await request.files(model) : request.files;
    for (const file of files) await store.logLoggedModelArtifact(model.modelId, file.path, await file.read());
    if (request.metrics?.length)
      await store.logBatch(request.runId, { metrics: request.metrics.map((m) => ({ ...m, modelId: model.modelId })) });
  } catch (error) {
    // as MLflow's `_use_logged_model`: a model whose logging failed is marked so, then the error goes on
    await store.finalizeLoggedModel(model.modelId, 'UPLOAD_FAILED').catch(() => undefined);
    throw error;
  }
  return store.finalizeLoggedModel(model.modelId, 'READY');
}
