/**
 * A cell's trained model as an MLflow 3 LoggedModel — the UI's Models tab, where every model of a
 * sweep is listed with its I-AUROC / P-AUROC / P-AUPRO and the dataset they were measured on.
 * The model's folder is the MLflow Model at its root (MLmodel with the ONNX flavour, naming its
 * `model_id` as MLflow 3 writes it) and the bundle in `model/` — the run folder's own layout, so
 * that `predict --model` reads a downloaded `models:/…` as it reads a run folder. Its params are
 * the run's (as MLflow's `log_model` copies them), its tags name the method, backbone, category
 * and cell; it is the run's output.
 *
 * When the server could not take the model (an outage: the writes went to the spool), the run
 * keeps the folders among its artifacts, and `modelFromRunArtifacts` makes the logged model from
 * them later (`sync-runs`), re-logging the run's final metrics with the model's id as MLflow's own
 * `log_model` does (`log_model_metrics_for_step`).
 *
 * @example
 * ```ts
 * const model = await logCellModel({ store, experimentId, runId, name: cell.name, params, tags, outDir });
 * model.status; // 'READY'
 * ```
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type DatasetInput,
  type LoggedModel,
  localFiles,
  logModel,
  MLFLOW_TAGS,
  type Metric,
  type ModelFile,
  type Run,
  runArtifactFiles,
  type TrackingStore,
} from '@cfa/tracking';
import { MLFLOW_MODEL_DIR, MLMODEL_FILE, mlmodelForLoggedModel } from '../export/mlflow-model';

/** The bundle's folder, in a run folder and in a logged model alike. */
export const BUNDLE_DIR = 'model';
/** MLflow's `model_type` of every model here: a user-defined kind to search and compare by. */
export const MODEL_TYPE = 'anomaly-detection';

/** A logged model's name for a cell: its name, with what MLflow refuses in one ('/', ':', '.', '%', quotes) as '_'. */
export function loggedModelName(cellName: string): string {
  return cellName.replace(/[/:.%"']/g, '_').slice(0, 200) || 'model';
}

/**
 * The test set a cell's final metrics were measured on: its `test` dataset input. Undefined when
 * there is none, or when its name or digest holds a space (the file store writes them as words).
 */
export function testDatasetOf(
  inputs: (Pick<DatasetInput, 'dataset'> & { tags?: Record<string, string> })[],
): { datasetName: string; datasetDigest: string } | undefined {
  const test = inputs.find((d) => d.tags?.[MLFLOW_TAGS.datasetContext] === 'test');
  if (!test || /\s/.test(`${test.dataset.name}${test.dataset.digest}`)) return undefined;
  return { datasetName: test.dataset.name, datasetDigest: test.dataset.digest };
}

/** The files of a model folder with MLmodel rewritten for the created logged model. */
function withLoggedMlmodel(files: ModelFile[], model: LoggedModel): ModelFile[] {
  return files.map((f) =>
    f.path === MLMODEL_FILE
      ? {
          path: f.path,
          read: async () => Buffer.from(mlmodelForLoggedModel(Buffer.from(await f.read()).toString('utf8'), model)),
        }
      : f,
  );
}

const isDir = (path: string) =>
  stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );

export interface CellModelRequest {
  store: TrackingStore;
  experimentId: string;
  runId: string;
  /** The cell's name (made a valid model name here). */
  name: string;
  params: Record<string, string>;
  tags: Record<string, string>;
}

/** The cell's model from its local run folder (`mlflow-model/` at the root, `model/` as it is). */
export async function logCellModel(request: CellModelRequest & { outDir: string }): Promise<LoggedModel> {
  const mlflowDir = join(request.outDir, MLFLOW_MODEL_DIR);
  const bundleDir = join(request.outDir, BUNDLE_DIR);
  const files = [
    ...((await isDir(mlflowDir)) ? await localFiles(mlflowDir) : []),
    ...((await isDir(bundleDir)) ? await localFiles(bundleDir, BUNDLE_DIR) : []),
  ];
  return logModel(request.store, {
    experimentId: request.experimentId,
    runId: request.runId,
    name: loggedModelName(request.name),
    modelType: MODEL_TYPE,
    params: request.params,
    tags: request.tags,
    files: (model) => withLoggedMlmodel(files, model),
  });
}

/** Whether a run holds a model folder among its artifacts (an MLflow Model or a bundle). */
export async function runHoldsModel(store: TrackingStore, runId: string): Promise<boolean> {
  const top = await store.listArtifacts(runId);
  return top.some((a) => a.isDir && (a.path === MLFLOW_MODEL_DIR || a.path === BUNDLE_DIR));
}

/**
 * The logged model of a FINISHED cell run that has none yet, made from the folders it logged as
 * artifacts; its final metrics (step 0) are logged again with the model's id and the test dataset.
 */
export async function modelFromRunArtifacts(
  store: TrackingStore,
  run: Run,
  finalMetricKeys: ReadonlySet<string>,
  evaluationKeys: ReadonlySet<string>,
): Promise<LoggedModel> {
  const { runId, experimentId } = run.info;
  const top = new Set((await store.listArtifacts(runId)).filter((a) => a.isDir).map((a) => a.path));
  const files = [
    ...(top.has(MLFLOW_MODEL_DIR) ? await runArtifactFiles(store, runId, MLFLOW_MODEL_DIR) : []),
    ...(top.has(BUNDLE_DIR) ? await runArtifactFiles(store, runId, BUNDLE_DIR, BUNDLE_DIR) : []),
  ];
  const dataset = testDatasetOf(run.inputs.datasetInputs);
  const metrics: Metric[] = Object.values(run.data.metrics)
    .filter((m) => finalMetricKeys.has(m.key) && m.step === 0)
    .map((m) => ({
      key: m.key,
      value: m.value,
      timestamp: m.timestamp,
      step: m.step,
      ...(dataset && evaluationKeys.has(m.key) ? dataset : {}),
    }));
  const tags = Object.fromEntries(Object.entries(run.data.tags).filter(([k]) => k.startsWith('cfa.')));
  return logModel(store, {
    experimentId,
    runId,
    name: loggedModelName(run.info.runName || runId),
    modelType: MODEL_TYPE,
    params: run.data.params,
    tags,
    files: (model) => withLoggedMlmodel(files, model),
    metrics,
  });
}
