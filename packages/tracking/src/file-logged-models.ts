/**
 * MLflow 3's logged models in the file store, in the layout of `FileStore.create_logged_model` and
 * its siblings (MLflow 3.6, `mlflow/store/tracking/file_store.py`), so that `mlflow server` /
 * `mlflow ui` on the folder list them in the Models tab (checked in local-store-readback.spec.ts):
 *
 *   <exp>/models/<model_id>/meta.yaml         model_id, experiment_id, name, artifact_location,
 *                                             creation/last_updated timestamps, model_type,
 *                                             source_run_id, status (PENDING 1, READY 2,
 *                                             UPLOAD_FAILED 3), status_message, lifecycle_stage
 *   <exp>/models/<model_id>/params/<key>, tags/<key>   the value, no trailing newline
 *   <exp>/models/<model_id>/metrics/<key>     "<timestamp> <value> <step> <run_id> [<dataset name> <dataset digest>]"
 *   <exp artifact_location>/models/<model_id>/artifacts/   the model's files
 *
 * The layout is MLflow's and not a stable interface (the file store is deprecated in favour of a
 * database from MLflow 3.7): the read-back test is what tells when it moves.
 *
 * @example
 * ```ts
 * const models = new FileLoggedModels(store);  // the file store's experiments
 * const m = await models.create({ experimentId, name: 'fleece', sourceRunId: runId });
 * await models.finalize(m.modelId, 'READY');
 * ```
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { appendLines, writeFileAtomic } from '@cfa/io';
import {
  type ArtifactInfo,
  type CreateLoggedModelRequest,
  CreateLoggedModelRequestSchema,
  type Experiment,
  type LoggedModel,
  type LoggedModelMetric,
  type LoggedModelStatus,
  type Metric,
  type SearchLoggedModelsRequest,
  SearchLoggedModelsRequestSchema,
  type SearchLoggedModelsResult,
} from './entities';
import {
  MlflowCorruptStoreError,
  MlflowError,
  MlflowInvalidParameterError,
  MlflowParamConflictError,
  MlflowResourceNotFoundError,
} from './errors';
import { appendUriPath, exists, FOLDERS, keysUnder, META, readStoreFile, valuesUnder } from './file-store-layout';
import { later, LoggedModelMetaSchema, parseModelMetricLine, readMeta, writeMeta } from './file-store-meta';
import { listLocalArtifacts, localArtifactFolder, readLocalArtifact, writeLocalArtifact } from './local-artifacts';
import { formatPythonFloat } from './metric-value';
import { randomLoggedModelId, randomName } from './random-names';
import { filterLoggedModels, paginate, sortLoggedModels } from './search-filter';
import { normalizeLoggedModelValues, parseRequest, validateLoggedModelName } from './validation';

/** `LoggedModelStatus.to_int()`. */
const STATUS_CODE: Record<LoggedModelStatus, number> = { PENDING: 1, READY: 2, UPLOAD_FAILED: 3 };
const STATUS_BY_CODE: Record<number, LoggedModelStatus> = { 1: 'PENDING', 2: 'READY', 3: 'UPLOAD_FAILED' };

/** What the logged models need of the store around them. */
export interface ExperimentFolders {
  /** Every experiment folder, active and deleted. */
  experimentDirs(): Promise<{ id: string; dir: string }[]>;
  getExperiment(experimentId: string): Promise<Experiment>;
}

interface ModelLocation {
  dir: string;
  experimentId: string;
}

export class FileLoggedModels {
  private readonly locations = new Map<string, ModelLocation>();

  constructor(private readonly experiments: ExperimentFolders) {}

  private async locate(modelId: string): Promise<ModelLocation> {
    const cached = this.locations.get(modelId);
    if (cached && (await exists(join(cached.dir, META)))) return cached;
    // an id is a folder name: nothing that could climb out of the models folder
    if (/^[\w-]+$/.test(modelId)) {
      for (const { id, dir } of await this.experiments.experimentDirs()) {
        const modelDir = join(dir, FOLDERS.models, modelId);
        if (await exists(join(modelDir, META))) {
          const location = { dir: modelDir, experimentId: id };
          this.locations.set(modelId, location);
          return location;
        }
      }
    }
    throw new MlflowResourceNotFoundError(`Model '${modelId}' not found`, 'RESOURCE_DOES_NOT_EXIST');
  }

  private async read(dir: string, experimentId: string): Promise<LoggedModel & { lifecycleStage: string }> {
    const meta = await readMeta(join(dir, META), LoggedModelMetaSchema);
    if (String(meta.experiment_id) !== experimentId)
      throw new MlflowCorruptStoreError(
        join(dir, META),
        `names experiment ${meta.experiment_id} but lies in experiment ${experimentId}'s folder`,
      );
    const metrics: LoggedModelMetric[] = [];
    for (const key of await keysUnder(join(dir, FOLDERS.metrics))) {
      const file = join(dir, FOLDERS.metrics, key);
      const lines = (await readStoreFile(file)).split('\n');
      lines.pop(); // a last line without its newline is a write in progress
      // MLflow keeps the latest value per dataset (`_get_model_metrics_from_file`)
      const latest = new Map<string, LoggedModelMetric>();
      lines.forEach((line, i) => {
        const m = parseModelMetricLine(key, meta.model_id, line, file, i + 1);
        const group = `${m.datasetName ?? ''}\u0000${m.datasetDigest ?? ''}`;
        const before = latest.get(group);
        if (!before || later(m, before)) latest.set(group, m);
      });
      metrics.push(...latest.values());
    }
    const text = (v: unknown) => (v === null || v === undefined || v === '' ? undefined : String(v));
    return {
      modelId: meta.model_id,
      experimentId,
      name: String(meta.name),
      artifactUri: meta.artifact_location ?? '',
      status: STATUS_BY_CODE[meta.status ?? 1] ?? 'PENDING',
      ...(text(meta.status_message) ? { statusMessage: text(meta.status_message) } : {}),
      ...(text(meta.model_type) ? { modelType: text(meta.model_type) } : {}),
      ...(text(meta.source_run_id) ? { sourceRunId: text(meta.source_run_id) } : {}),
      creationTimestamp: meta.creation_timestamp ?? 0,
      lastUpdatedTimestamp: meta.last_updated_timestamp ?? 0,
      tags: await valuesUnder(join(dir, FOLDERS.tags)),
      params: await valuesUnder(join(dir, FOLDERS.params)),
      metrics,
      lifecycleStage: meta.lifecycle_stage ?? 'active',
    };
  }

  private async writeModelMeta(dir: string, m: LoggedModel): Promise<void> {
    await writeMeta(
      join(dir, META),
      {
        artifact_location: m.artifactUri,
        creation_timestamp: m.creationTimestamp,
        experiment_id: m.experimentId,
        last_updated_timestamp: m.lastUpdatedTimestamp,
        lifecycle_stage: 'active',
        model_id: m.modelId,
        model_type: m.modelType ?? null,
        name: m.name,
        source_run_id: m.sourceRunId ?? null,
        status: STATUS_CODE[m.status],
        status_message: m.statusMessage ?? null,
      },
      dir,
    );
  }

  async create(request: CreateLoggedModelRequest): Promise<LoggedModel> {
    const r = parseRequest(CreateLoggedModelRequestSchema, request, 'createLoggedModel');
    if (r.name !== undefined) validateLoggedModelName(r.name);
    const params = normalizeLoggedModelValues('param', r.params);
    const tags = normalizeLoggedModelValues('tag', r.tags);
    const experiment = await this.experiments.getExperiment(r.experimentId);
    if (experiment.lifecycleStage !== 'active')
      throw new MlflowError(
        `Could not create model under non-active experiment with ID ${r.experimentId}.`,
        'INVALID_STATE',
      );
    const modelId = randomLoggedModelId();
    const dir = join(
      (await this.experiments.experimentDirs()).find((e) => e.id === experiment.experimentId)!.dir,
      FOLDERS.models,
      modelId,
    );
    await mkdir(join(dir, FOLDERS.metrics), { recursive: true });
    await mkdir(join(dir, FOLDERS.params), { recursive: true });
    const now = Date.now();
    const model: LoggedModel = {
      modelId,
      experimentId: experiment.experimentId,
      name: r.name || randomName(),
      artifactUri: appendUriPath(experiment.artifactLocation, FOLDERS.models, modelId, FOLDERS.artifacts),
      status: 'PENDING',
      ...(r.modelType ? { modelType: r.modelType } : {}),
      ...(r.sourceRunId ? { sourceRunId: r.sourceRunId } : {}),
      creationTimestamp: now,
      lastUpdatedTimestamp: now,
      tags: {},
      params: {},
      metrics: [],
    };
    for (const [key, value] of Object.entries(params))
      await writeFileAtomic(join(dir, FOLDERS.params, key), value, { tempDir: dir });
    for (const [key, value] of Object.entries(tags))
      await writeFileAtomic(join(dir, FOLDERS.tags, key), value, { tempDir: dir });
    // meta.yaml last: a folder with one is a complete model
    await this.writeModelMeta(dir, model);
    this.locations.set(modelId, { dir, experimentId: experiment.experimentId });
    return this.get(modelId);
  }

  async get(modelId: string): Promise<LoggedModel> {
    const { dir, experimentId } = await this.locate(modelId);
    const { lifecycleStage, ...model } = await this.read(dir, experimentId);
    if (lifecycleStage === 'deleted')
      throw new MlflowResourceNotFoundError(`Model '${modelId}' not found`, 'RESOURCE_DOES_NOT_EXIST');
    return model;
  }

  async finalize(modelId: string, status: Exclude<LoggedModelStatus, 'PENDING'>): Promise<LoggedModel> {
    if (status !== 'READY' && status !== 'UPLOAD_FAILED')
      throw new MlflowInvalidParameterError(
        `status '${String(status)}': expected READY or UPLOAD_FAILED`,
        'INVALID_PARAMETER_VALUE',
      );
    const model = await this.get(modelId);
    const { dir } = await this.locate(modelId);
    await this.writeModelMeta(dir, { ...model, status, lastUpdatedTimestamp: Date.now() });
    return this.get(modelId);
  }

  async setTags(modelId: string, tags: Record<string, string>): Promise<void> {
    const normalized = normalizeLoggedModelValues('tag', tags);
    await this.get(modelId);
    const { dir } = await this.locate(modelId);
    for (const [key, value] of Object.entries(normalized))
      await writeFileAtomic(join(dir, FOLDERS.tags, key), value, { tempDir: dir });
  }

  /** A param keeps its first value (as a run's): every key is checked before any is written. */
  async logParams(modelId: string, params: Record<string, string>): Promise<void> {
    const normalized = normalizeLoggedModelValues('param', params);
    const have = (await this.get(modelId)).params;
    const { dir } = await this.locate(modelId);
    for (const [key, value] of Object.entries(normalized))
      if (have[key] !== undefined && have[key] !== value)
        throw new MlflowParamConflictError(
          `Changing param values is not allowed. Param with key='${key}' was already logged with value='${have[key]}' for logged model ID='${modelId}'. Attempted logging new value '${value}'.`,
          'INVALID_PARAMETER_VALUE',
        );
    for (const [key, value] of Object.entries(normalized))
      if (have[key] === undefined) await writeFileAtomic(join(dir, FOLDERS.params, key), value, { tempDir: dir });
  }

  /**
   * A run's metric lines for the models they name (`FileStore._log_model_metric`). MLflow's file
   * store writes a line for any id, creating a folder for an unknown one; a model that is not in
   * the run's experiment gets nothing here (the run keeps the value).
   */
  async logRunMetrics(experimentId: string, runId: string, metrics: Metric[]): Promise<void> {
    const lines = new Map<string, string[]>();
    for (const m of metrics) {
      if (!m.modelId) continue;
      const location = await this.locate(m.modelId).catch(() => undefined);
      if (!location || location.experimentId !== experimentId) continue;
      const file = join(location.dir, FOLDERS.metrics, m.key);
      const dataset = m.datasetName ? ` ${m.datasetName} ${m.datasetDigest}` : '';
      lines.set(file, [
        ...(lines.get(file) ?? []),
        `${m.timestamp} ${formatPythonFloat(m.value)} ${m.step} ${runId}${dataset}\n`,
      ]);
    }
    for (const [file, list] of lines) await appendLines(file, list.join(''));
  }

  /** The ids of every model folder of an experiment, readable or not — for a reader that must account for each (`copyStore`). */
  async ids(experimentId: string): Promise<string[]> {
    const ids: string[] = [];
    for (const { id, dir } of await this.experiments.experimentDirs()) {
      if (id !== experimentId) continue;
      for (const e of await readdir(join(dir, FOLDERS.models), { withFileTypes: true }).catch(() => [])) {
        if (!e.isDirectory() || !(await exists(join(dir, FOLDERS.models, e.name, META)))) continue;
        this.locations.set(e.name, { dir: join(dir, FOLDERS.models, e.name), experimentId });
        ids.push(e.name);
      }
    }
    return ids.sort();
  }

  async search(request: SearchLoggedModelsRequest): Promise<SearchLoggedModelsResult> {
    const r = parseRequest(SearchLoggedModelsRequestSchema, request, 'searchLoggedModels');
    const all: LoggedModel[] = [];
    const dirs = await this.experiments.experimentDirs();
    for (const experimentId of r.experimentIds) {
      for (const { dir } of dirs.filter((d) => d.id === experimentId)) {
        for (const e of await readdir(join(dir, FOLDERS.models), { withFileTypes: true }).catch(() => [])) {
          if (!e.isDirectory() || !(await exists(join(dir, FOLDERS.models, e.name, META)))) continue;
          // as MLflow's `_list_models`: a model it cannot read is left out, not the whole search
          const read = await this.read(join(dir, FOLDERS.models, e.name), experimentId).catch(() => undefined);
          if (!read || read.lifecycleStage === 'deleted') continue;
          const { lifecycleStage: _stage, ...model } = read;
          all.push(model);
        }
      }
    }
    const page = paginate(
      sortLoggedModels(filterLoggedModels(all, r.filter, r.datasets), r.orderBy),
      r.maxResults ?? 100,
      r.pageToken,
    );
    return { models: page.items, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
  }

  private async artifactFolder(modelId: string): Promise<{ base: string; dir: string }> {
    const model = await this.get(modelId);
    const { dir } = await this.locate(modelId);
    return { base: localArtifactFolder(model.artifactUri, `logged model ${modelId}`), dir };
  }

  async logArtifact(modelId: string, path: string, content: Uint8Array | string): Promise<void> {
    const { base } = await this.artifactFolder(modelId);
    await writeLocalArtifact(base, path, content);
  }

  async listArtifacts(modelId: string, path = ''): Promise<ArtifactInfo[]> {
    return listLocalArtifacts((await this.artifactFolder(modelId)).base, path);
  }

  async downloadArtifact(modelId: string, path: string): Promise<Buffer> {
    return readLocalArtifact((await this.artifactFolder(modelId)).base, path, `logged model ${modelId}`);
  }
}
