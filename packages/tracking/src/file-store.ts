/**
 * MLflow's on-disk file store, written from TypeScript, so that `mlflow ui --backend-store-uri DIR`
 * (and `mlflow server`) read our runs as their own (layout of mlflow/store/tracking/file_store.py,
 * MLflow 3.6):
 *
 *   DIR/0/meta.yaml                         the Default experiment
 *   DIR/<exp_id>/meta.yaml, tags/<key>      experiments (18-digit random ids)
 *   DIR/<exp_id>/<run_id>/meta.yaml         runs (uuid4 hex), status as an int
 *   …/metrics/<key>                         "<timestamp> <value> <step>" per line
 *   …/params/<key>, tags/<key>              the value, no newline; '/' in a key = sub-folder
 *   …/artifacts/<path>                      files (artifact_uri is a file:// URI)
 *
 * Files that a half write would corrupt (meta.yaml, params, tags) go through a temp file and a
 * rename; metric lines are appended, which is atomic for lines this short. Experiment creation
 * takes a lock folder so two processes cannot create the same name twice.
 *
 * @example
 * ```ts
 * const store = new FileTrackingStore('./mlruns');
 * const exp = await store.getOrCreateExperiment('ablation-loss');
 * const run = await store.createRun({ experimentId: exp, runName: 'weave att+rep' });
 * ```
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { MlflowInvalidParameterError, MlflowParamConflictError, MlflowResourceAlreadyExistsError, MlflowResourceNotFoundError } from './errors';
import { matchesFilter, paginate, parseFilter, sortRuns } from './search-filter';
import type { TrackingStore } from './tracking-store';
import {
  type ArtifactInfo,
  type Batch,
  type CreateRunRequest,
  type Experiment,
  type Metric,
  MLFLOW_TAGS,
  RUN_STATUS_CODE,
  type Run,
  type RunInfo,
  type RunStatus,
  type SearchRunsRequest,
  type SearchRunsResult,
  type UpdateRunRequest,
} from './types';
import { LIMITS, normalizeBatch, truncateTag, validateKey } from './validation';

const STATUS_BY_CODE = Object.fromEntries(Object.entries(RUN_STATUS_CODE).map(([k, v]) => [v, k])) as Record<number, RunStatus>;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

async function writeAtomic(path: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, content);
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
}

/** yaml.safe_dump(…, default_flow_style=False, sort_keys=True) for the flat dicts MLflow writes. */
function dumpYaml(data: Record<string, unknown>): string {
  return stringifyYaml(data, { sortMapEntries: true, lineWidth: 0, nullStr: 'null' });
}

/** Python's float formatting for the special values (the file store reads them with float()). */
export function formatMetricValue(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return String(v);
}

function parseMetricValue(s: string): number {
  const lower = s.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === 'inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  return Number(s);
}

/** Files under a folder, as '/'-joined relative keys. */
async function keysUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, prefix: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.name.endsWith('.tmp')) continue;
      if (e.isDirectory()) await walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.push(`${prefix}${e.name}`);
    }
  };
  await walk(dir, '');
  return out.sort();
}

function randomExperimentId(): string {
  // MLflow: a random 18-digit integer (uuid4().int, cut to 18 digits, no leading zero)
  let id = '';
  while (id.length < 18) id += BigInt(`0x${randomBytes(8).toString('hex')}`).toString();
  return (id[0] === '0' ? `1${id.slice(1)}` : id).slice(0, 18);
}

export interface FileTrackingStoreOptions {
  /**
   * Base of experiments' artifact_location (default `file://<root>`). The fake server passes
   * `mlflow-artifacts:` to look like a tracking server with an artifact proxy.
   */
  artifactRoot?: string;
}

export class FileTrackingStore implements TrackingStore {
  readonly root: string;
  private ready?: Promise<void>;

  constructor(root: string, private readonly options: FileTrackingStoreOptions = {}) {
    this.root = resolve(root);
  }

  get location(): string {
    return this.root;
  }

  private artifactLocation(experimentId: string): string {
    const base = this.options.artifactRoot ?? pathToFileURL(this.root).href;
    return base.endsWith(':') ? `${base}/${experimentId}` : `${base.replace(/\/$/, '')}/${experimentId}`;
  }

  /** Like MLflow's FileStore: a new root gets the Default experiment 0. */
  private init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.root, { recursive: true });
      if (!(await exists(join(this.root, '0', 'meta.yaml')))) await this.writeExperiment('0', 'Default');
    })();
    return this.ready;
  }

  private async writeExperiment(id: string, name: string): Promise<void> {
    const now = Date.now();
    await writeAtomic(join(this.root, id, 'meta.yaml'), dumpYaml({
      artifact_location: this.artifactLocation(id), creation_time: now, experiment_id: id,
      last_update_time: now, lifecycle_stage: 'active', name,
    }));
  }

  private async experimentIds(): Promise<string[]> {
    await this.init();
    const names = await readdir(this.root).catch(() => [] as string[]);
    const ids: string[] = [];
    for (const n of names) if (/^\d+$/.test(n) && (await exists(join(this.root, n, 'meta.yaml')))) ids.push(n);
    return ids;
  }

  private async readExperiment(id: string): Promise<Experiment> {
    const dir = join(this.root, id);
    let meta: Record<string, unknown>;
    try {
      meta = parseYaml(await readFile(join(dir, 'meta.yaml'), 'utf8')) as Record<string, unknown>;
    } catch {
      throw new MlflowResourceNotFoundError(`Could not find experiment with ID ${id}`, 'RESOURCE_DOES_NOT_EXIST');
    }
    const tags: Record<string, string> = {};
    for (const key of await keysUnder(join(dir, 'tags'))) tags[key] = await readFile(join(dir, 'tags', key), 'utf8');
    return {
      experimentId: String(meta.experiment_id),
      name: String(meta.name),
      artifactLocation: String(meta.artifact_location),
      lifecycleStage: String(meta.lifecycle_stage ?? 'active'),
      creationTime: meta.creation_time as number | undefined,
      lastUpdateTime: meta.last_update_time as number | undefined,
      tags,
    };
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    for (const id of await this.experimentIds()) {
      const e = await this.readExperiment(id).catch(() => undefined);
      if (e?.name === name) return e;
    }
    return undefined;
  }

  /** A lock folder: mkdir is atomic, so only one process holds it. Stale locks (> 30 s) are broken. */
  private async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const lock = join(this.root, `.lock-${Buffer.from(name).toString('hex').slice(0, 60)}`);
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(lock);
        break;
      } catch {
        const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
        if (age > 30_000) await rm(lock, { recursive: true, force: true });
        if (attempt > 600) throw new Error(`${lock}: lock held too long`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    try {
      return await fn();
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  }

  async createExperiment(name: string, tags: Record<string, string> = {}): Promise<string> {
    if (!name || name.length > LIMITS.experimentNameLength) throw new MlflowInvalidParameterError(`experiment name must have 1 to ${LIMITS.experimentNameLength} characters`, 'INVALID_PARAMETER_VALUE');
    await this.init();
    return this.withLock(`experiment:${name}`, async () => {
      if (await this.getExperimentByName(name)) throw new MlflowResourceAlreadyExistsError(`Experiment '${name}' already exists.`, 'RESOURCE_ALREADY_EXISTS');
      const id = randomExperimentId();
      await this.writeExperiment(id, name);
      for (const [k, v] of Object.entries(tags)) {
        validateKey('tag', k);
        await writeAtomic(join(this.root, id, 'tags', k), truncateTag({ key: k, value: v }).value);
      }
      return id;
    });
  }

  async getOrCreateExperiment(name: string, tags?: Record<string, string>): Promise<string> {
    const existing = await this.getExperimentByName(name);
    if (existing) return existing.experimentId;
    try {
      return await this.createExperiment(name, tags);
    } catch (error) {
      if (error instanceof MlflowResourceAlreadyExistsError) return (await this.getExperimentByName(name))!.experimentId;
      throw error;
    }
  }

  private async runDir(runId: string): Promise<{ dir: string; experimentId: string }> {
    if (!/^[0-9a-f]{32}$/.test(runId)) throw new MlflowInvalidParameterError(`Invalid run ID: '${runId}'`, 'INVALID_PARAMETER_VALUE');
    for (const id of await this.experimentIds()) {
      const dir = join(this.root, id, runId);
      if (await exists(join(dir, 'meta.yaml'))) return { dir, experimentId: id };
    }
    throw new MlflowResourceNotFoundError(`Run '${runId}' not found`, 'RESOURCE_DOES_NOT_EXIST');
  }

  async createRun(request: CreateRunRequest): Promise<Run> {
    const experiment = await this.readExperiment(request.experimentId);
    const runId = randomUUID().replaceAll('-', '');
    const dir = join(this.root, experiment.experimentId, runId);
    const runName = request.runName ?? request.tags?.[MLFLOW_TAGS.runName] ?? `run-${runId.slice(0, 8)}`;
    const meta = {
      artifact_uri: `${experiment.artifactLocation}/${runId}/artifacts`, end_time: null, entry_point_name: '',
      experiment_id: experiment.experimentId, lifecycle_stage: 'active', run_id: runId, run_name: runName,
      source_name: '', source_type: 4, source_version: '', start_time: request.startTime ?? Date.now(),
      status: RUN_STATUS_CODE.RUNNING, tags: [], user_id: request.userId ?? 'cfa', deleted_time: null,
    };
    for (const sub of ['metrics', 'params', 'artifacts', 'tags']) await mkdir(join(dir, sub), { recursive: true });
    await writeAtomic(join(dir, 'meta.yaml'), dumpYaml(meta));
    const tags = { ...request.tags, [MLFLOW_TAGS.runName]: runName, ...(request.parentRunId ? { [MLFLOW_TAGS.parentRunId]: request.parentRunId } : {}) };
    await this.logBatch(runId, { tags: Object.entries(tags).map(([key, value]) => ({ key, value })) });
    return this.getRun(runId);
  }

  private async readRunMeta(dir: string): Promise<Record<string, unknown>> {
    return parseYaml(await readFile(join(dir, 'meta.yaml'), 'utf8')) as Record<string, unknown>;
  }

  async updateRun({ runId, status, endTime, runName }: UpdateRunRequest): Promise<void> {
    const { dir } = await this.runDir(runId);
    const meta = await this.readRunMeta(dir);
    meta.status = RUN_STATUS_CODE[status];
    if (endTime !== undefined) meta.end_time = endTime;
    if (runName) meta.run_name = runName;
    delete meta.deleted_time;
    await writeAtomic(join(dir, 'meta.yaml'), dumpYaml(meta));
    if (runName) await writeAtomic(join(dir, 'tags', MLFLOW_TAGS.runName), runName);
  }

  async getRun(runId: string): Promise<Run> {
    const { dir } = await this.runDir(runId);
    const meta = await this.readRunMeta(dir);
    const info: RunInfo = {
      runId,
      runName: String(meta.run_name ?? ''),
      experimentId: String(meta.experiment_id),
      userId: String(meta.user_id ?? ''),
      status: STATUS_BY_CODE[Number(meta.status)] ?? 'RUNNING',
      startTime: Number(meta.start_time),
      ...(meta.end_time !== null && meta.end_time !== undefined ? { endTime: Number(meta.end_time) } : {}),
      artifactUri: String(meta.artifact_uri),
      lifecycleStage: String(meta.lifecycle_stage ?? 'active'),
    };
    const params: Record<string, string> = {};
    for (const key of await keysUnder(join(dir, 'params'))) params[key] = await readFile(join(dir, 'params', key), 'utf8');
    const tags: Record<string, string> = {};
    for (const key of await keysUnder(join(dir, 'tags'))) tags[key] = await readFile(join(dir, 'tags', key), 'utf8');
    const metrics: Record<string, Metric> = {};
    for (const key of await keysUnder(join(dir, 'metrics'))) {
      const history = await this.readHistory(dir, key);
      // MLflow: the largest (step, timestamp, value)
      metrics[key] = history.reduce((a, b) => (b.step > a.step || (b.step === a.step && (b.timestamp > a.timestamp || (b.timestamp === a.timestamp && b.value > a.value))) ? b : a));
    }
    return { info, data: { metrics, params, tags } };
  }

  private async readHistory(dir: string, key: string): Promise<Metric[]> {
    const text = await readFile(join(dir, 'metrics', key), 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean).map((line) => {
      const [ts, value, step] = line.split(' ');
      return { key, timestamp: Number(ts), value: parseMetricValue(value), step: step === undefined ? 0 : Number(step) };
    });
  }

  async searchRuns(request: SearchRunsRequest): Promise<SearchRunsResult> {
    const clauses = parseFilter(request.filter);
    const runs: Run[] = [];
    for (const experimentId of request.experimentIds) {
      const expDir = join(this.root, experimentId);
      for (const name of await readdir(expDir).catch(() => [] as string[])) {
        if (!/^[0-9a-f]{32}$/.test(name) || !(await exists(join(expDir, name, 'meta.yaml')))) continue;
        const run = await this.getRun(name);
        if (run.info.lifecycleStage === 'active' && matchesFilter(run, clauses)) runs.push(run);
      }
    }
    return paginate(sortRuns(runs, request.orderBy), request.maxResults, request.pageToken);
  }

  async logBatch(runId: string, batch: Batch): Promise<void> {
    const { metrics, params, tags } = normalizeBatch(batch);
    const { dir } = await this.runDir(runId);
    for (const p of params) {
      const path = join(dir, 'params', p.key);
      const current = await readFile(path, 'utf8').catch(() => undefined);
      if (current !== undefined && current !== p.value) {
        throw new MlflowParamConflictError(`Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${current}' for run ID='${runId}'. Attempted logging new value '${p.value}'.`, 'INVALID_PARAMETER_VALUE');
      }
      if (current === undefined) await writeAtomic(path, p.value);
    }
    const lines = new Map<string, string>();
    for (const m of metrics) lines.set(m.key, `${lines.get(m.key) ?? ''}${Math.trunc(m.timestamp)} ${formatMetricValue(m.value)} ${Math.trunc(m.step)}\n`);
    for (const [key, text] of lines) {
      const path = join(dir, 'metrics', key);
      await mkdir(dirname(path), { recursive: true });
      await appendFile(path, text);
    }
    for (const t of tags) await writeAtomic(join(dir, 'tags', t.key), t.value);
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.logBatch(runId, { tags: [{ key, value }] });
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    validateKey('metric', key);
    const { dir } = await this.runDir(runId);
    return this.readHistory(dir, key);
  }

  private async artifactPath(runId: string, path: string): Promise<string> {
    const { dir } = await this.runDir(runId);
    const base = join(dir, 'artifacts');
    const full = resolve(base, path);
    if (full !== base && !full.startsWith(base + sep)) throw new MlflowInvalidParameterError(`artifact path '${path}' leaves the run's artifact folder`, 'INVALID_PARAMETER_VALUE');
    return full;
  }

  async logArtifact(runId: string, artifactPath: string, content: Uint8Array | string): Promise<void> {
    await writeAtomic(await this.artifactPath(runId, artifactPath), content);
  }

  async listArtifacts(runId: string, path = ''): Promise<ArtifactInfo[]> {
    const dir = await this.artifactPath(runId, path);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const out: ArtifactInfo[] = [];
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.endsWith('.tmp')) continue;
      const rel = path ? `${path.replace(/\/$/, '')}/${e.name}` : e.name;
      out.push(e.isDirectory() ? { path: rel, isDir: true } : { path: rel, isDir: false, fileSize: (await stat(join(dir, e.name))).size });
    }
    return out;
  }

  async downloadArtifact(runId: string, path: string): Promise<Buffer> {
    const full = await this.artifactPath(runId, path);
    try {
      return await readFile(full);
    } catch {
      throw new MlflowResourceNotFoundError(`artifact '${path}' of run ${runId} does not exist`, 'RESOURCE_DOES_NOT_EXIST');
    }
  }

  async close(): Promise<void> {}
}
