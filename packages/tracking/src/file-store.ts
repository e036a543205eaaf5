/**
 * MLflow's on-disk file store, written from TypeScript, so that `mlflow ui --backend-store-uri DIR`
 * and `mlflow server --backend-store-uri DIR` read our runs as their own. The layout and the bytes
 * follow `mlflow/store/tracking/file_store.py` of MLflow 3.6:
 *
 *   DIR/0/meta.yaml                          the Default experiment
 *   DIR/<exp_id>/meta.yaml, tags/<key>       experiments; ids are random 18-digit integers
 *   DIR/<exp_id>/<run_id>/meta.yaml          runs; uuid4 hex ids, status as an int (RUNNING 1 … KILLED 5)
 *   …/<run_id>/metrics/<key>                 "<timestamp> <value> <step>" per line, value as Python's repr
 *   …/<run_id>/params/<key>, tags/<key>      the value, no trailing newline; '/' in a key = sub-folder
 *   …/<run_id>/artifacts/<path>              files; the run's artifact_uri is that folder as a file:// URI
 *   DIR/<exp_id>/datasets/<md5>/meta.yaml    datasets (name, digest, source_type, source, schema, profile)
 *   …/<run_id>/inputs/<md5>/meta.yaml        the run's dataset inputs, with their tags
 *   …/<run_id>/outputs/<model_id>/meta.yaml  the logged models the run produced (MLflow 3)
 *   DIR/<exp_id>/models/<model_id>/…         logged models (file-logged-models.ts)
 *   DIR/.trash/<exp_id>                      deleted experiments (read, never written here)
 *
 * Where each file lives is file-store-layout.ts, what each holds file-store-meta.ts, the ids and
 * names it makes up random-names.ts; this class reads and writes them.
 * meta.yaml is YAML that PyYAML reads as we meant it (`dumpMetaYaml`); meta.yaml, params, tags and
 * artifacts go through a temp file and a rename, metric lines are appended whole. Experiment
 * creation holds a lock file, so concurrent processes never create one name twice; runs have
 * random ids and their own folders, so processes writing different runs never touch the same file.
 *
 * Semantics are the server's: a param re-logged with the same value is fine and with another value
 * is `MlflowParamConflictError`; param values over 6000 and tag values over 8000 characters are
 * truncated; keys are validated; an unknown run is `MlflowResourceNotFoundError`. A file that is not
 * what MLflow writes — a meta.yaml that is not a mapping of the expected fields, a metric line that
 * is not `<timestamp> <value> <step>` — is `MlflowCorruptStoreError` naming that file.
 *
 * @example
 * ```ts
 * const store = new FileTrackingStore('./mlruns');
 * const experimentId = await store.getOrCreateExperiment('ablation-loss');
 * const run = await store.createRun({ experimentId, runName: 'weave att+rep' });
 * await store.logMetric(run.info.runId, 'image_auroc', 0.97);
 * // then: mlflow ui --backend-store-uri ./mlruns
 * ```
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { appendLines, withFileLock, writeFileAtomic } from '@cfa/io';
import {
  type ArtifactInfo,
  type Batch,
  type CreateLoggedModelRequest,
  type CreateRunRequest,
  CreateRunRequestSchema,
  type DatasetInput,
  type DatasetInputRequest,
  type Experiment,
  type LoggedModel,
  type LoggedModelStatus,
  type Metric,
  MLFLOW_TAGS,
  type ModelOutput,
  ModelOutputSchema,
  RUN_STATUS_CODE,
  type Run,
  type RunInfo,
  type RunStatus,
  type SearchLoggedModelsRequest,
  type SearchLoggedModelsResult,
  type SearchRunsRequest,
  SearchRunsRequestSchema,
  type SearchRunsResult,
  type UpdateRunRequest,
  UpdateRunRequestSchema,
} from './entities';
import {
  MlflowCorruptStoreError,
  MlflowError,
  MlflowInvalidParameterError,
  MlflowParamConflictError,
  MlflowResourceAlreadyExistsError,
  MlflowResourceNotFoundError,
} from './errors';
import { FileLoggedModels } from './file-logged-models';
import {
  appendUriPath,
  exists,
  FOLDERS,
  isDirectory,
  keysUnder,
  md5Hex,
  META,
  RESERVED,
  readStoreFile,
  TRASH,
  valuesUnder,
} from './file-store-layout';
import {
  DatasetMetaSchema,
  ExperimentMetaSchema,
  InputMetaSchema,
  later,
  OutputMetaSchema,
  parseMetricLine,
  readMeta,
  RunMetaSchema,
  writeMeta,
} from './file-store-meta';
import { listLocalArtifacts, localArtifactFolder, readLocalArtifact, writeLocalArtifact } from './local-artifacts';
import { formatPythonFloat } from './metric-value';
import { randomExperimentId, randomName, randomRunId } from './random-names';
import { matchesFilter, paginate, parseFilter, sortRuns } from './search-filter';
import { BatchLoggingStore, type TrackingStore } from './tracking-store';
import {
  LIMITS,
  normalizeBatch,
  normalizeDatasetInputs,
  parseRequest,
  validateExperimentId,
  validateExperimentName,
  validateKey,
  validateRunId,
} from './validation';

export const FileTrackingStoreOptionsSchema = z.strictObject({
  /**
   * Base URI of new experiments' artifact_location (default: the store folder as a file:// URI,
   * as MLflow's FileStore does). The fake server passes `mlflow-artifacts:` to look like a tracking
   * server that proxies artifacts.
   */
  artifactRoot: z.string().optional(),
  /** user_id of new runs when the request names none (default: the OS user, as MLflow's client). */
  defaultUserId: z.string().optional(),
});
export type FileTrackingStoreOptions = z.infer<typeof FileTrackingStoreOptionsSchema>;

const STATUS_BY_CODE = Object.fromEntries(Object.entries(RUN_STATUS_CODE).map(([k, v]) => [v, k])) as Record<
  number,
  RunStatus
>;
const SOURCE_TYPE_LOCAL = 4;

/**
 * Whether a damaged experiment meta.yaml could hold `name`: it names it, or no `name:` line of it
 * can be read at all (a truncated or overwritten file).
 */
async function mayBeNamed(file: string, name: string): Promise<boolean> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const line = /^name: *(.*)$/m.exec(text);
  return !line || line[1].replace(/^['"]|['"]$/g, '').trim() === name;
}

function defaultUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
}

interface RunLocation {
  dir: string;
  experimentId: string;
}

export class FileTrackingStore extends BatchLoggingStore implements TrackingStore {
  readonly root: string;
  private readonly options: FileTrackingStoreOptions;
  private ready?: Promise<void>;
  private readonly runLocations = new Map<string, RunLocation>();
  private readonly models: FileLoggedModels;

  constructor(root: string, options: FileTrackingStoreOptions = {}) {
    super();
    this.root = resolve(root);
    this.options = parseRequest(FileTrackingStoreOptionsSchema, options, 'FileTrackingStore options');
    this.models = new FileLoggedModels({
      experimentDirs: () => this.experimentDirs(),
      getExperiment: (id) => this.getExperiment(id),
    });
  }

  get location(): string {
    return this.root;
  }

  private get artifactRoot(): string {
    return this.options.artifactRoot ?? pathToFileURL(this.root).href;
  }

  /** Like MLflow's FileStore: a store without experiment 0 gets the Default experiment, and a .trash. */
  private init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(join(this.root, TRASH), { recursive: true });
      if (!(await exists(join(this.root, '0')))) {
        await withFileLock(join(this.root, '.create-experiment.lock'), async () => {
          if (!(await exists(join(this.root, '0', META)))) await this.writeExperiment('0', 'Default', {});
        });
      }
    })();
    return this.ready;
  }

  private async writeExperiment(id: string, name: string, tags: Record<string, string>): Promise<void> {
    const dir = join(this.root, id);
    await mkdir(dir, { recursive: true });
    const now = Date.now();
    for (const [key, value] of Object.entries(tags))
      await writeFileAtomic(join(dir, 'tags', key), String(value), { tempDir: dir });
    await writeMeta(
      join(dir, META),
      {
        artifact_location: appendUriPath(this.artifactRoot, id),
        creation_time: now,
        experiment_id: id,
        last_update_time: now,
        lifecycle_stage: 'active',
        name,
      },
      dir,
    );
  }

  /** Experiment folders: active ones in the root, deleted ones in .trash. */
  async experimentDirs(): Promise<{ id: string; dir: string }[]> {
    await this.init();
    const out: { id: string; dir: string }[] = [];
    for (const parent of [this.root, join(this.root, TRASH)]) {
      for (const e of await readdir(parent, { withFileTypes: true }).catch(() => [])) {
        if (!e.isDirectory() || e.name.startsWith('.') || (parent === this.root && e.name === 'models')) continue;
        out.push({ id: e.name, dir: join(parent, e.name) });
      }
    }
    return out;
  }

  private async readExperiment(dir: string): Promise<Experiment | undefined> {
    const path = join(dir, META);
    if (!(await exists(path))) return undefined;
    const meta = await readMeta(path, ExperimentMetaSchema);
    return {
      experimentId: String(meta.experiment_id),
      name: String(meta.name),
      artifactLocation: meta.artifact_location ?? '',
      lifecycleStage: meta.lifecycle_stage ?? 'active',
      ...(typeof meta.creation_time === 'number' ? { creationTime: meta.creation_time } : {}),
      ...(typeof meta.last_update_time === 'number' ? { lastUpdateTime: meta.last_update_time } : {}),
      tags: await valuesUnder(join(dir, 'tags')),
    };
  }

  /** The experiment with this id, active or deleted; `MlflowResourceNotFoundError` if none. */
  async getExperiment(experimentId: string): Promise<Experiment> {
    validateExperimentId(experimentId);
    await this.init();
    for (const dir of [join(this.root, experimentId), join(this.root, TRASH, experimentId)]) {
      const e = await this.readExperiment(dir);
      if (e) return e;
    }
    throw new MlflowResourceNotFoundError(
      `Could not find experiment with ID ${experimentId}`,
      'RESOURCE_DOES_NOT_EXIST',
    );
  }

  /**
   * Every readable experiment, active and deleted. One whose meta.yaml is damaged is left out and
   * handed to `onUnreadable` (a reader that must account for everything, like `copyStore`, says so).
   */
  async listExperiments(onUnreadable?: (error: MlflowCorruptStoreError) => void): Promise<Experiment[]> {
    const out: Experiment[] = [];
    for (const { dir } of await this.experimentDirs()) {
      try {
        const e = await this.readExperiment(dir);
        if (e) out.push(e);
      } catch (error) {
        if (!(error instanceof MlflowCorruptStoreError)) throw error;
        onUnreadable?.(error);
      }
    }
    return out;
  }

  /**
   * Every experiment with this name, active or deleted, oldest first (creation_time, then id).
   * MLflow's own file-store server can create a name twice when two clients race; the oldest is
   * the one every client settles on (see `getExperimentByName`).
   */
  async getExperimentsByName(name: string): Promise<Experiment[]> {
    const unreadable: MlflowCorruptStoreError[] = [];
    const matches = (await this.listExperiments((e) => unreadable.push(e))).filter((e) => e.name === name);
    // a damaged meta.yaml may be this very experiment: "not found" would have a second one created
    let maybe: MlflowCorruptStoreError | undefined;
    for (const e of matches.length ? [] : unreadable) if (!maybe && (await mayBeNamed(e.file, name))) maybe = e;
    if (maybe)
      throw new MlflowCorruptStoreError(
        maybe.file,
        `${maybe.message.slice(maybe.file.length + 2)}; it may be experiment '${name}', so no second experiment of that name is created: repair this file (or move its folder out of ${this.root})`,
      );
    return matches.sort(
      (a, b) => (a.creationTime ?? 0) - (b.creationTime ?? 0) || (a.experimentId < b.experimentId ? -1 : 1),
    );
  }

  /** The oldest experiment with this name (a name MLflow created twice resolves to one id everywhere). */
  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    return (await this.getExperimentsByName(name))[0];
  }

  /**
   * Creates an experiment; a taken name is `MlflowResourceAlreadyExistsError`. Creation holds a
   * lock so that processes never create one name twice — unless `mlflowRace` is set, which the fake
   * server uses to behave like MLflow's file store: it checks the name, yields, then writes, without
   * a lock, so two racing creates both succeed.
   */
  async createExperiment(
    name: string,
    tags: Record<string, string> = {},
    options: { mlflowRace?: boolean } = {},
  ): Promise<string> {
    validateExperimentName(name);
    for (const key of Object.keys(tags)) validateKey('tag', key);
    await this.init();
    const create = async () => {
      const existing = await this.getExperimentByName(name);
      if (existing) {
        throw new MlflowResourceAlreadyExistsError(
          existing.lifecycleStage === 'deleted'
            ? `Experiment '${name}' already exists in deleted state.`
            : `Experiment '${name}' already exists.`,
          'RESOURCE_ALREADY_EXISTS',
        );
      }
      if (options.mlflowRace) await new Promise((r) => setTimeout(r, 25));
      let id = randomExperimentId();
      while (await exists(join(this.root, id))) id = randomExperimentId();
      await this.writeExperiment(id, name, tags);
      return id;
    };
    return options.mlflowRace ? create() : withFileLock(join(this.root, '.create-experiment.lock'), create);
  }

  async getOrCreateExperiment(name: string, tags?: Record<string, string>): Promise<string> {
    const existing = await this.getExperimentByName(name);
    if (existing) return existing.experimentId;
    try {
      return await this.createExperiment(name, tags);
    } catch (error) {
      if (!(error instanceof MlflowResourceAlreadyExistsError)) throw error;
      return (await this.getExperimentByName(name))!.experimentId;
    }
  }

  private async locateRun(runId: string): Promise<RunLocation> {
    validateRunId(runId);
    const cached = this.runLocations.get(runId);
    if (cached && (await exists(join(cached.dir, META)))) return cached;
    for (const { id, dir } of await this.experimentDirs()) {
      const runDir = join(dir, runId);
      if (await exists(join(runDir, META))) {
        const location = { dir: runDir, experimentId: id };
        this.runLocations.set(runId, location);
        return location;
      }
    }
    throw new MlflowResourceNotFoundError(`Run '${runId}' not found`, 'RESOURCE_DOES_NOT_EXIST');
  }

  private async readRunInfo(dir: string, runId: string): Promise<RunInfo> {
    const meta = await readMeta(join(dir, META), RunMetaSchema);
    return {
      runId: String(meta.run_id ?? meta.run_uuid ?? runId),
      runName: meta.run_name === null || meta.run_name === undefined ? '' : String(meta.run_name),
      experimentId: String(meta.experiment_id),
      userId: meta.user_id === null || meta.user_id === undefined ? '' : String(meta.user_id),
      status: STATUS_BY_CODE[meta.status ?? 1],
      startTime: meta.start_time ?? 0,
      ...(typeof meta.end_time === 'number' ? { endTime: meta.end_time } : {}),
      artifactUri: meta.artifact_uri ?? '',
      lifecycleStage: meta.lifecycle_stage ?? 'active',
    };
  }

  /** MLflow's `_make_persisted_run_info_dict`: the fields it writes, and only those. */
  private async writeRunInfo(dir: string, info: RunInfo): Promise<void> {
    await writeMeta(
      join(dir, META),
      {
        artifact_uri: info.artifactUri,
        end_time: info.endTime ?? null,
        entry_point_name: '',
        experiment_id: info.experimentId,
        lifecycle_stage: info.lifecycleStage,
        run_id: info.runId,
        run_name: info.runName,
        source_name: '',
        source_type: SOURCE_TYPE_LOCAL,
        source_version: '',
        start_time: info.startTime,
        status: RUN_STATUS_CODE[info.status],
        tags: [],
        user_id: info.userId,
      },
      dir,
    );
  }

  private assertActive(info: RunInfo): void {
    if (info.lifecycleStage !== 'active') {
      throw new MlflowInvalidParameterError(
        `The run ${info.runId} must be in the 'active' state. Current state is ${info.lifecycleStage}.`,
        'INVALID_PARAMETER_VALUE',
      );
    }
  }

  async createRun(request: CreateRunRequest): Promise<Run> {
    const r = parseRequest(CreateRunRequestSchema, request, 'createRun');
    const experiment = await this.getExperiment(r.experimentId);
    if (experiment.lifecycleStage !== 'active') {
      throw new MlflowError(
        `Could not create run under non-active experiment with ID ${r.experimentId}.`,
        'INVALID_STATE',
      );
    }
    const tagName = r.tags?.[MLFLOW_TAGS.runName];
    if (r.runName && tagName && r.runName !== tagName) {
      throw new MlflowInvalidParameterError(
        `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${r.runName}', mlflow.runName='${tagName}').`,
        'INVALID_PARAMETER_VALUE',
      );
    }
    const runName = r.runName || tagName || randomName();
    const tags: Record<string, string> = {
      ...r.tags,
      [MLFLOW_TAGS.runName]: runName,
      ...(r.parentRunId ? { [MLFLOW_TAGS.parentRunId]: r.parentRunId } : {}),
    };
    const normalized = normalizeBatch({ tags: Object.entries(tags).map(([key, value]) => ({ key, value })) });
    const runId = randomRunId();
    const dir = join(this.root, experiment.experimentId, runId);
    await mkdir(dir, { recursive: true });
    const info: RunInfo = {
      runId,
      runName,
      experimentId: experiment.experimentId,
      userId: r.userId ?? this.options.defaultUserId ?? defaultUser(),
      status: 'RUNNING',
      startTime: r.startTime ?? Date.now(),
      artifactUri: appendUriPath(experiment.artifactLocation, runId, 'artifacts'),
      lifecycleStage: 'active',
    };
    await this.writeRunInfo(dir, info);
    for (const sub of ['metrics', 'params', 'artifacts']) await mkdir(join(dir, sub), { recursive: true });
    for (const t of normalized.tags) await writeFileAtomic(join(dir, 'tags', t.key), t.value, { tempDir: dir });
    this.runLocations.set(runId, { dir, experimentId: experiment.experimentId });
    return this.getRun(runId);
  }

  async updateRun(request: UpdateRunRequest): Promise<void> {
    const r = parseRequest(UpdateRunRequestSchema, request, 'updateRun');
    const { dir } = await this.locateRun(r.runId);
    const info = await this.readRunInfo(dir, r.runId);
    this.assertActive(info);
    const next: RunInfo = {
      ...info,
      status: r.status,
      ...(r.endTime !== undefined ? { endTime: r.endTime } : {}),
      ...(r.runName ? { runName: r.runName } : {}),
    };
    if (r.runName) await writeFileAtomic(join(dir, 'tags', MLFLOW_TAGS.runName), r.runName, { tempDir: dir });
    await this.writeRunInfo(dir, next);
  }

  private async readHistory(dir: string, key: string): Promise<Metric[]> {
    const file = join(dir, 'metrics', key);
    if (!(await exists(file))) return [];
    const lines = (await readStoreFile(file)).split('\n');
    // a last line without its newline is a write in progress (or torn by a crash): not a value yet
    lines.pop();
    return lines.map((line, i) => parseMetricLine(key, line, file, i + 1));
  }

  /** The run's dataset inputs, as MLflow's `_get_dataset_inputs` reads them. */
  private async readInputs(runDir: string, experimentDir: string): Promise<DatasetInput[]> {
    const out: DatasetInput[] = [];
    for (const e of await readdir(join(runDir, 'inputs'), { withFileTypes: true }).catch(() => [])) {
      if (!e.isDirectory()) continue;
      const input = await readMeta(join(runDir, 'inputs', e.name, META), InputMetaSchema);
      if (input.source_type !== 'DATASET') continue;
      const datasetPath = join(experimentDir, 'datasets', input.source_id, META);
      // MLflow skips an input whose dataset is gone, with a warning; so do we
      if (!(await exists(datasetPath))) continue;
      const d = await readMeta(datasetPath, DatasetMetaSchema);
      out.push({
        dataset: {
          name: String(d.name),
          digest: String(d.digest),
          sourceType: d.source_type === null || d.source_type === undefined ? '' : String(d.source_type),
          source: d.source === null || d.source === undefined ? '' : String(d.source),
          ...(d.schema ? { schema: d.schema } : {}),
          ...(d.profile ? { profile: d.profile } : {}),
        },
        tags: Object.fromEntries(Object.entries(input.tags ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)])),
      });
    }
    return out.sort((a, b) => (a.dataset.name + a.dataset.digest < b.dataset.name + b.dataset.digest ? -1 : 1));
  }

  /** The logged models the run produced, as MLflow's `_get_model_outputs` reads them. */
  private async readOutputs(runDir: string): Promise<ModelOutput[]> {
    const out: ModelOutput[] = [];
    for (const e of await readdir(join(runDir, FOLDERS.outputs), { withFileTypes: true }).catch(() => [])) {
      if (!e.isDirectory()) continue;
      const output = await readMeta(join(runDir, FOLDERS.outputs, e.name, META), OutputMetaSchema);
      if (output.destination_type !== 'MODEL_OUTPUT') continue;
      out.push({ modelId: output.destination_id, step: output.step ?? 0 });
    }
    return out.sort((a, b) => (a.modelId < b.modelId ? -1 : 1));
  }

  async logOutputs(runId: string, outputs: ModelOutput[]): Promise<void> {
    const parsed = outputs.map((o) => parseRequest(ModelOutputSchema, o, 'logOutputs'));
    const { dir } = await this.locateRun(runId);
    this.assertActive(await this.readRunInfo(dir, runId));
    for (const { modelId, step } of parsed) {
      // the id names a folder: nothing that could leave the outputs folder
      if (!/^[\w-]+$/.test(modelId))
        throw new MlflowInvalidParameterError(
          `logOutputs: model id '${modelId}' is not an id`,
          'INVALID_PARAMETER_VALUE',
        );
      const meta = join(dir, FOLDERS.outputs, modelId, META);
      // MLflow's FileStore.log_outputs: what exists is left as it is
      if (await exists(meta)) continue;
      await writeMeta(
        meta,
        {
          // sic: MLflow writes the model id as the destination too
          destination_id: modelId,
          destination_type: 'MODEL_OUTPUT',
          source_id: modelId,
          source_type: 'RUN_OUTPUT',
          step,
          tags: {},
        },
        dir,
      );
    }
  }

  async logInputs(runId: string, datasets: DatasetInputRequest[]): Promise<void> {
    const inputs = normalizeDatasetInputs(datasets);
    const { dir } = await this.locateRun(runId);
    this.assertActive(await this.readRunInfo(dir, runId));
    const experimentDir = dirname(dir);
    for (const { dataset, tags } of inputs) {
      // MLflow's FileStore.log_inputs: ids are md5s, and what exists is left as it is
      const datasetId = md5Hex(dataset.name, dataset.digest);
      const datasetMeta = join(experimentDir, 'datasets', datasetId, META);
      if (!(await exists(datasetMeta))) {
        await writeMeta(datasetMeta, {
          digest: dataset.digest,
          name: dataset.name,
          profile: dataset.profile ?? null,
          schema: dataset.schema ?? null,
          source: dataset.source,
          source_type: dataset.sourceType,
        });
      }
      const inputMeta = join(dir, 'inputs', md5Hex(datasetId, runId), META);
      if (await exists(inputMeta)) continue;
      await writeMeta(
        inputMeta,
        {
          // sic: MLflow writes the dataset's id as the destination too
          destination_id: datasetId,
          destination_type: 'RUN',
          source_id: datasetId,
          source_type: 'DATASET',
          tags,
        },
        dir,
      );
    }
  }

  async getRun(runId: string): Promise<Run> {
    const { dir } = await this.locateRun(runId);
    const info = await this.readRunInfo(dir, runId);
    const params = await valuesUnder(join(dir, 'params'));
    const tags = await valuesUnder(join(dir, 'tags'));
    const metrics: Record<string, Metric> = {};
    for (const key of await keysUnder(join(dir, 'metrics'))) {
      const history = await this.readHistory(dir, key);
      if (history.length) metrics[key] = history.reduce((a, b) => (later(b, a) ? b : a));
    }
    if (!info.runName && tags[MLFLOW_TAGS.runName]) info.runName = tags[MLFLOW_TAGS.runName];
    const datasetInputs = await this.readInputs(dir, dirname(dir));
    const modelOutputs = await this.readOutputs(dir);
    return { info, data: { metrics, params, tags }, inputs: { datasetInputs }, outputs: { modelOutputs } };
  }

  /**
   * The ids of every run folder of an experiment, active or deleted runs alike — for a reader that
   * must account for each run (`copyStore`), where `searchRuns` leaves out runs it cannot read.
   */
  async runIds(experimentId: string): Promise<string[]> {
    validateExperimentId(experimentId);
    await this.init();
    const ids: string[] = [];
    for (const dir of [join(this.root, experimentId), join(this.root, TRASH, experimentId)]) {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if (!e.isDirectory() || RESERVED.has(e.name) || !(await exists(join(dir, e.name, META)))) continue;
        this.runLocations.set(e.name, { dir: join(dir, e.name), experimentId });
        ids.push(e.name);
      }
    }
    return ids.sort();
  }

  async searchRuns(request: SearchRunsRequest): Promise<SearchRunsResult> {
    const r = parseRequest(SearchRunsRequestSchema, request, 'searchRuns');
    const clauses = parseFilter(r.filter);
    const maxResults = r.maxResults ?? 1000;
    if (maxResults > LIMITS.searchMaxResults)
      throw new MlflowInvalidParameterError(
        `Invalid value for request parameter max_results. It must be at most ${LIMITS.searchMaxResults}, but got value ${maxResults}`,
        'INVALID_PARAMETER_VALUE',
      );
    await this.init();
    const runs: Run[] = [];
    for (const experimentId of r.experimentIds) {
      const expDir = (await isDirectory(join(this.root, experimentId)))
        ? join(this.root, experimentId)
        : join(this.root, TRASH, experimentId);
      for (const e of await readdir(expDir, { withFileTypes: true }).catch(() => [])) {
        if (!e.isDirectory() || RESERVED.has(e.name) || !(await exists(join(expDir, e.name, META)))) continue;
        this.runLocations.set(e.name, { dir: join(expDir, e.name), experimentId });
        const run = await this.getRun(e.name).catch(() => undefined);
        if (
          run &&
          run.info.experimentId === experimentId &&
          run.info.lifecycleStage === 'active' &&
          matchesFilter(run, clauses)
        )
          runs.push(run);
      }
    }
    const page = paginate(sortRuns(runs, r.orderBy), maxResults, r.pageToken);
    return { runs: page.items, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
  }

  async logBatch(runId: string, batch: Batch): Promise<void> {
    const { metrics, params, tags } = normalizeBatch(batch);
    const { dir } = await this.locateRun(runId);
    const info = await this.readRunInfo(dir, runId);
    this.assertActive(info);
    // every param checked before any is written, so a conflict leaves the run as it was
    const fresh: typeof params = [];
    for (const p of params) {
      const current = await readFile(join(dir, 'params', p.key), 'utf8').catch(() => undefined);
      if (current === undefined) fresh.push(p);
      else if (current !== p.value) {
        throw new MlflowParamConflictError(
          `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${current}' for run ID='${runId}'. Attempted logging new value '${p.value}'.`,
          'INVALID_PARAMETER_VALUE',
        );
      }
    }
    for (const p of fresh) await writeFileAtomic(join(dir, 'params', p.key), p.value, { tempDir: dir });
    for (const m of metrics)
      if (/\s/.test(`${m.datasetName ?? ''}${m.datasetDigest ?? ''}`))
        throw new MlflowInvalidParameterError(
          `metric '${m.key}': the file store writes a dataset's name and digest as words of a line, so they cannot hold spaces ('${m.datasetName}', '${m.datasetDigest}')`,
          'INVALID_PARAMETER_VALUE',
        );
    const lines = new Map<string, string[]>();
    for (const m of metrics) {
      const list = lines.get(m.key) ?? [];
      const dataset = m.datasetName ? ` ${m.datasetName} ${m.datasetDigest}` : '';
      list.push(`${m.timestamp} ${formatPythonFloat(m.value)} ${m.step}${dataset}\n`);
      lines.set(m.key, list);
    }
    for (const [key, list] of lines) await appendLines(join(dir, 'metrics', key), list.join(''));
    // MLflow's FileStore.log_batch: a value for a logged model goes to the model too
    await this.models.logRunMetrics(info.experimentId, runId, metrics);
    for (const t of tags) {
      await writeFileAtomic(join(dir, 'tags', t.key), t.value, { tempDir: dir });
      // as MLflow: the run name tag and the run's name stay one
      if (t.key === MLFLOW_TAGS.runName)
        await this.writeRunInfo(dir, { ...(await this.readRunInfo(dir, runId)), runName: t.value });
    }
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    validateKey('metric', key);
    const { dir } = await this.locateRun(runId);
    return this.readHistory(dir, key);
  }

  /** The run's artifact folder from its artifact_uri, which must be a local file URI. */
  private async artifactDir(runId: string): Promise<string> {
    const { dir } = await this.locateRun(runId);
    return localArtifactFolder((await this.readRunInfo(dir, runId)).artifactUri, `run ${runId}`);
  }

  async logArtifact(runId: string, artifactPath: string, content: Uint8Array | string): Promise<void> {
    await writeLocalArtifact(await this.artifactDir(runId), artifactPath, content, (await this.locateRun(runId)).dir);
  }

  async listArtifacts(runId: string, path = ''): Promise<ArtifactInfo[]> {
    return listLocalArtifacts(await this.artifactDir(runId), path);
  }

  async downloadArtifact(runId: string, path: string): Promise<Buffer> {
    return readLocalArtifact(await this.artifactDir(runId), path, `run ${runId}`);
  }

  // ── logged models (file-logged-models.ts) ──────────────────────────────────────────────────

  createLoggedModel(request: CreateLoggedModelRequest): Promise<LoggedModel> {
    return this.models.create(request);
  }

  /**
   * The ids of every logged model folder of an experiment — for a reader that must account for
   * each (`copyStore`), where `searchLoggedModels` leaves out models it cannot read.
   */
  loggedModelIds(experimentId: string): Promise<string[]> {
    validateExperimentId(experimentId);
    return this.models.ids(experimentId);
  }

  getLoggedModel(modelId: string): Promise<LoggedModel> {
    return this.models.get(modelId);
  }

  finalizeLoggedModel(modelId: string, status: Exclude<LoggedModelStatus, 'PENDING'>): Promise<LoggedModel> {
    return this.models.finalize(modelId, status);
  }

  setLoggedModelTags(modelId: string, tags: Record<string, string>): Promise<void> {
    return this.models.setTags(modelId, tags);
  }

  logLoggedModelParams(modelId: string, params: Record<string, string>): Promise<void> {
    return this.models.logParams(modelId, params);
  }

  searchLoggedModels(request: SearchLoggedModelsRequest): Promise<SearchLoggedModelsResult> {
    return this.models.search(request);
  }

  logLoggedModelArtifact(modelId: string, path: string, content: Uint8Array | string): Promise<void> {
    return this.models.logArtifact(modelId, path, content);
  }

  listLoggedModelArtifacts(modelId: string, path?: string): Promise<ArtifactInfo[]> {
    return this.models.listArtifacts(modelId, path);
  }

  downloadLoggedModelArtifact(modelId: string, path: string): Promise<Buffer> {
    return this.models.downloadArtifact(modelId, path);
  }

  async close(): Promise<void> {}
}
