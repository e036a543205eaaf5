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
 *   DIR/.trash/<exp_id>                      deleted experiments (read, never written here)
 *
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
import { createHash, randomInt, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { appendLines, withFileLock, writeFileAtomic } from '@cfa/io';
import {
  type ArtifactInfo,
  type Batch,
  type CreateRunRequest,
  CreateRunRequestSchema,
  type DatasetInput,
  type DatasetInputRequest,
  type Experiment,
  type Metric,
  MLFLOW_TAGS,
  RUN_STATUS_CODE,
  type Run,
  type RunInfo,
  type RunStatus,
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
import { dumpMetaYaml, parseMetaYaml } from './meta-yaml';
import { formatPythonFloat, parsePythonFloat } from './metric-value';
import { matchesFilter, paginate, parseFilter, sortRuns } from './search-filter';
import { BatchLoggingStore, type TrackingStore } from './tracking-store';
import {
  LIMITS,
  normalizeBatch,
  normalizeDatasetInputs,
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
const TRASH = '.trash';
/** Experiment sub-folders that are not runs (FileStore.RESERVED_EXPERIMENT_FOLDERS). */
const RESERVED = new Set(['tags', 'datasets', 'traces', 'models']);
const SOURCE_TYPE_LOCAL = 4;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Files under a folder as '/'-joined keys, like os.walk in MLflow's `_get_resource_files`. */
async function keysUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, prefix: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.push(`${prefix}${e.name}`);
    }
  };
  await walk(dir, '');
  return out.sort();
}

/** A file of the store as text; one that exists but cannot be read (a folder, no permission) names itself. */
async function readStoreFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new MlflowCorruptStoreError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
}

/** Every value file under a folder (params/, tags/) as key → content. */
async function valuesUnder(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of await keysUnder(dir)) out[key] = await readStoreFile(join(dir, key));
  return out;
}

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const timeMs = z.number().int().nonnegative().nullish();

/** What MLflow's FileStore writes in an experiment's meta.yaml (older versions: experiment_id as an int). */
const ExperimentMetaSchema = z.looseObject({
  experiment_id: z.union([z.string(), z.number().int()]),
  name: scalar,
  artifact_location: z.string().nullish(),
  lifecycle_stage: z.string().nullish(),
  creation_time: timeMs,
  last_update_time: timeMs,
});

/** What MLflow's FileStore writes in a run's meta.yaml (`_make_persisted_run_info_dict`). */
const RunMetaSchema = z.looseObject({
  run_id: scalar.nullish(),
  run_uuid: scalar.nullish(),
  run_name: scalar.nullish(),
  experiment_id: z.union([z.string(), z.number().int()]),
  user_id: scalar.nullish(),
  status: z.number().int().min(1).max(5).nullish(),
  start_time: timeMs,
  end_time: timeMs,
  artifact_uri: z.string().nullish(),
  lifecycle_stage: z.string().nullish(),
});

/** A dataset's meta.yaml: `dict(Dataset)` in MLflow. */
const DatasetMetaSchema = z.looseObject({
  name: scalar,
  digest: scalar,
  source_type: scalar.nullish(),
  source: scalar.nullish(),
  schema: z.string().nullish(),
  profile: z.string().nullish(),
});

/** A run input's meta.yaml: MLflow's `_FileStoreInput`. */
const InputMetaSchema = z.looseObject({
  source_type: z.string(),
  source_id: z.string(),
  tags: z.record(z.string(), scalar.nullable()).nullish(),
});

/**
 * Whether a damaged experiment meta.yaml could hold `name`: it names it, or no `name:` line of it
 * can be read at all (a truncated or overwritten file).
 */
async function mayBeNamed(file: string, name: string): Promise<boolean> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const line = /^name: *(.*)$/m.exec(text);
  return !line || line[1].replace(/^['"]|['"]$/g, '').trim() === name;
}

/** A meta.yaml read and checked; `MlflowCorruptStoreError` naming the file when it is not what MLflow writes. */
async function readMeta<T>(path: string, schema: z.ZodType<T>): Promise<T> {
  const parsed = schema.safeParse(parseMetaYaml(await readStoreFile(path), path));
  if (!parsed.success)
    throw new MlflowCorruptStoreError(
      path,
      `not an MLflow meta.yaml: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`,
    );
  return parsed.data;
}

/** MLflow's `_get_dataset_id` / `_get_dataset_input_id`: md5 of the parts, concatenated. */
function md5Hex(...parts: string[]): string {
  const hash = createHash('md5');
  for (const p of parts) hash.update(p, 'utf8');
  return hash.digest('hex');
}

/** MLflow's `_generate_unique_integer_id`: 18 digits, no leading zero. */
function randomExperimentId(): string {
  let id = String(randomInt(1, 10));
  while (id.length < 18) id += String(randomInt(0, 10));
  return id;
}

const PREDICATES = [
  'able',
  'bold',
  'brave',
  'calm',
  'clever',
  'eager',
  'gentle',
  'honest',
  'keen',
  'lucky',
  'merry',
  'quick',
  'quiet',
  'sharp',
  'sly',
  'wise',
];
const NOUNS = [
  'ant',
  'bat',
  'bee',
  'cat',
  'cod',
  'cow',
  'crab',
  'deer',
  'doe',
  'eel',
  'elk',
  'fox',
  'gnu',
  'hen',
  'owl',
  'ram',
  'yak',
];

/** Like MLflow's `_generate_random_name`: predicate-noun-number. */
function randomRunName(): string {
  return `${PREDICATES[randomInt(PREDICATES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(0, 1001)}`;
}

function defaultUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
}

/** MLflow's `append_to_uri_path` for the URIs this store writes. */
function appendUriPath(uri: string, ...parts: string[]): string {
  const suffix = parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');
  if (/^[a-z][\w+.-]*:$/i.test(uri)) return `${uri}/${suffix}`; // 'mlflow-artifacts:' → 'mlflow-artifacts:/1'
  return `${uri.replace(/\/+$/, '')}/${suffix}`;
}

/** The largest (step, timestamp, value), compared as Python compares tuples (NaN never larger). */
function later(b: Metric, a: Metric): boolean {
  if (b.step !== a.step) return b.step > a.step;
  if (b.timestamp !== a.timestamp) return b.timestamp > a.timestamp;
  return b.value > a.value;
}

const INTEGER = /^[-+]?\d{1,16}$/;

/**
 * One line of a metric file, as MLflow's `_get_metric_from_line` reads it: `<timestamp> <value>`,
 * then `<step>` (and, from 2.x, two more fields it ignores here). Anything else names the file.
 */
function parseMetricLine(key: string, line: string, file: string, lineNumber: number): Metric {
  const parts = line.trim().split(' ');
  const bad = (why: string) =>
    new MlflowCorruptStoreError(file, `line ${lineNumber} is not '<timestamp> <value> <step>': ${why}`);
  if (parts.length !== 2 && parts.length !== 3 && parts.length !== 5)
    throw bad(`${parts.length} fields, expected 2, 3 or 5`);
  if (!INTEGER.test(parts[0])) throw bad(`timestamp ${JSON.stringify(parts[0].slice(0, 40))}`);
  if (parts.length >= 3 && !INTEGER.test(parts[2])) throw bad(`step ${JSON.stringify(parts[2].slice(0, 40))}`);
  let value: number;
  try {
    value = parsePythonFloat(parts[1]);
  } catch {
    throw bad(`value ${JSON.stringify(parts[1].slice(0, 40))}`);
  }
  return { key, timestamp: Number(parts[0]), value, step: parts.length >= 3 ? Number(parts[2]) : 0 };
}

function parseRequest<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new MlflowInvalidParameterError(`${what}: ${z.prettifyError(parsed.error)}`, 'INVALID_PARAMETER_VALUE');
  return parsed.data;
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

  constructor(root: string, options: FileTrackingStoreOptions = {}) {
    super();
    this.root = resolve(root);
    this.options = parseRequest(FileTrackingStoreOptionsSchema, options, 'FileTrackingStore options');
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
          if (!(await exists(join(this.root, '0', 'meta.yaml')))) await this.writeExperiment('0', 'Default', {});
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
    await writeFileAtomic(
      join(dir, 'meta.yaml'),
      dumpMetaYaml({
        artifact_location: appendUriPath(this.artifactRoot, id),
        creation_time: now,
        experiment_id: id,
        last_update_time: now,
        lifecycle_stage: 'active',
        name,
      }),
      { tempDir: dir, durable: true },
    );
  }

  /** Experiment folders: active ones in the root, deleted ones in .trash. */
  private async experimentDirs(): Promise<{ id: string; dir: string }[]> {
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
    const path = join(dir, 'meta.yaml');
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
    if (cached && (await exists(join(cached.dir, 'meta.yaml')))) return cached;
    for (const { id, dir } of await this.experimentDirs()) {
      const runDir = join(dir, runId);
      if (await exists(join(runDir, 'meta.yaml'))) {
        const location = { dir: runDir, experimentId: id };
        this.runLocations.set(runId, location);
        return location;
      }
    }
    throw new MlflowResourceNotFoundError(`Run '${runId}' not found`, 'RESOURCE_DOES_NOT_EXIST');
  }

  private async readRunInfo(dir: string, runId: string): Promise<RunInfo> {
    const meta = await readMeta(join(dir, 'meta.yaml'), RunMetaSchema);
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
    await writeFileAtomic(
      join(dir, 'meta.yaml'),
      dumpMetaYaml({
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
      }),
      { tempDir: dir, durable: true },
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
    const runName = r.runName || tagName || randomRunName();
    const tags: Record<string, string> = {
      ...r.tags,
      [MLFLOW_TAGS.runName]: runName,
      ...(r.parentRunId ? { [MLFLOW_TAGS.parentRunId]: r.parentRunId } : {}),
    };
    const normalized = normalizeBatch({ tags: Object.entries(tags).map(([key, value]) => ({ key, value })) });
    const runId = randomUUID().replaceAll('-', '');
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
      const input = await readMeta(join(runDir, 'inputs', e.name, 'meta.yaml'), InputMetaSchema);
      if (input.source_type !== 'DATASET') continue;
      const datasetPath = join(experimentDir, 'datasets', input.source_id, 'meta.yaml');
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

  async logInputs(runId: string, datasets: DatasetInputRequest[]): Promise<void> {
    const inputs = normalizeDatasetInputs(datasets);
    const { dir } = await this.locateRun(runId);
    this.assertActive(await this.readRunInfo(dir, runId));
    const experimentDir = dirname(dir);
    for (const { dataset, tags } of inputs) {
      // MLflow's FileStore.log_inputs: ids are md5s, and what exists is left as it is
      const datasetId = md5Hex(dataset.name, dataset.digest);
      const datasetMeta = join(experimentDir, 'datasets', datasetId, 'meta.yaml');
      if (!(await exists(datasetMeta))) {
        await writeFileAtomic(
          datasetMeta,
          dumpMetaYaml({
            digest: dataset.digest,
            name: dataset.name,
            profile: dataset.profile ?? null,
            schema: dataset.schema ?? null,
            source: dataset.source,
            source_type: dataset.sourceType,
          }),
          { durable: true },
        );
      }
      const inputMeta = join(dir, 'inputs', md5Hex(datasetId, runId), 'meta.yaml');
      if (await exists(inputMeta)) continue;
      await writeFileAtomic(
        inputMeta,
        dumpMetaYaml({
          // sic: MLflow writes the dataset's id as the destination too
          destination_id: datasetId,
          destination_type: 'RUN',
          source_id: datasetId,
          source_type: 'DATASET',
          tags,
        }),
        { tempDir: dir, durable: true },
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
    return { info, data: { metrics, params, tags }, inputs: { datasetInputs } };
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
        if (!e.isDirectory() || RESERVED.has(e.name) || !(await exists(join(dir, e.name, 'meta.yaml')))) continue;
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
        if (!e.isDirectory() || RESERVED.has(e.name) || !(await exists(join(expDir, e.name, 'meta.yaml')))) continue;
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
    const lines = new Map<string, string[]>();
    for (const m of metrics) {
      const list = lines.get(m.key) ?? [];
      list.push(`${m.timestamp} ${formatPythonFloat(m.value)} ${m.step}\n`);
      lines.set(m.key, list);
    }
    for (const [key, list] of lines) await appendLines(join(dir, 'metrics', key), list.join(''));
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
    const { artifactUri } = await this.readRunInfo(dir, runId);
    if (artifactUri.startsWith('file:')) return fileURLToPath(artifactUri);
    if (artifactUri.startsWith('/')) return artifactUri;
    throw new MlflowError(
      `run ${runId} keeps its artifacts at '${artifactUri}', which is not a local folder; this store reads and writes local artifacts only`,
      'NOT_IMPLEMENTED',
    );
  }

  private async artifactPath(runId: string, path: string): Promise<string> {
    const base = await this.artifactDir(runId);
    const full = resolve(base, path);
    if (full !== base && !full.startsWith(base + sep))
      throw new MlflowInvalidParameterError(
        `Invalid artifact path: '${path}' leaves the run's artifact folder`,
        'INVALID_PARAMETER_VALUE',
      );
    return full;
  }

  async logArtifact(runId: string, artifactPath: string, content: Uint8Array | string): Promise<void> {
    const full = await this.artifactPath(runId, artifactPath);
    if (full === (await this.artifactDir(runId)))
      throw new MlflowInvalidParameterError('artifact path must name a file', 'INVALID_PARAMETER_VALUE');
    await writeFileAtomic(full, content, { tempDir: (await this.locateRun(runId)).dir });
  }

  async listArtifacts(runId: string, path = ''): Promise<ArtifactInfo[]> {
    const dir = await this.artifactPath(runId, path);
    const base = path.replace(/^\/+|\/+$/g, '');
    const out: ArtifactInfo[] = [];
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const rel = base ? `${base}/${e.name}` : e.name;
      out.push(
        e.isDirectory()
          ? { path: rel, isDir: true }
          : { path: rel, isDir: false, fileSize: (await stat(join(dir, e.name))).size },
      );
    }
    return out;
  }

  async downloadArtifact(runId: string, path: string): Promise<Buffer> {
    const full = await this.artifactPath(runId, path);
    try {
      return await readFile(full);
    } catch {
      throw new MlflowResourceNotFoundError(
        `artifact '${path}' of run ${runId} does not exist (looked for ${full})`,
        'RESOURCE_DOES_NOT_EXIST',
      );
    }
  }

  async close(): Promise<void> {}
}
