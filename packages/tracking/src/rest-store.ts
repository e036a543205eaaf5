/**
 * MLflow's REST API (`/api/2.0/mlflow/...`) on undici, for `MLFLOW_TRACKING_URI`: timeouts on
 * connect and on the whole request, retries with exponential backoff and full jitter for 429,
 * 5xx and connection errors, MLflow error bodies turned into typed errors, log-batch split to the
 * server's limits, NaN/±Infinity sent as MLflow expects, artifacts through the server's proxy.
 *
 * @example
 * ```ts
 * const store = new RestTrackingStore({ uri: 'http://127.0.0.1:5000' });
 * const id = await store.getOrCreateExperiment('compression-sweep');
 * ```
 */
import { Agent, errors as undiciErrors, request } from 'undici';
import {
  errorFromResponse,
  MlflowError,
  MlflowParamConflictError,
  MlflowResourceAlreadyExistsError,
  MlflowResourceNotFoundError,
  MlflowUnavailableError,
} from './errors';
import type { TrackingStore } from './tracking-store';
import {
  type ArtifactInfo,
  type Batch,
  type CreateRunRequest,
  type Experiment,
  type KeyValue,
  type Metric,
  MLFLOW_TAGS,
  type Run,
  type RunStatus,
  type SearchRunsRequest,
  type SearchRunsResult,
  type UpdateRunRequest,
} from './types';
import { chunkBatch, normalizeBatch } from './validation';

export interface RetryPolicy {
  /** Total tries, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface RestTrackingStoreOptions {
  uri: string;
  connectTimeoutMs?: number;
  /** Per request: until the whole response has arrived. */
  requestTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Called before each retry (for logs). */
  onRetry?: (info: { endpoint: string; attempt: number; delayMs: number; reason: string }) => void;
  headers?: Record<string, string>;
}

const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED']);

/** MLflow JSON: NaN and ±Infinity travel as strings. */
export function encodeMetricValue(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

export function decodeMetricValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return Number(v);
}

interface WireRun {
  info: Record<string, unknown>;
  data?: { metrics?: Record<string, unknown>[]; params?: KeyValue[]; tags?: KeyValue[] };
}

function runFromWire(wire: WireRun): Run {
  const i = wire.info;
  const metrics: Record<string, Metric> = {};
  for (const m of wire.data?.metrics ?? []) {
    metrics[String(m.key)] = { key: String(m.key), value: decodeMetricValue(m.value), timestamp: Number(m.timestamp), step: Number(m.step ?? 0) };
  }
  return {
    info: {
      runId: String(i.run_id ?? i.run_uuid),
      runName: String(i.run_name ?? ''),
      experimentId: String(i.experiment_id),
      userId: String(i.user_id ?? ''),
      status: (i.status ?? 'RUNNING') as RunStatus,
      startTime: Number(i.start_time),
      ...(i.end_time !== undefined && i.end_time !== null ? { endTime: Number(i.end_time) } : {}),
      artifactUri: String(i.artifact_uri ?? ''),
      lifecycleStage: String(i.lifecycle_stage ?? 'active'),
    },
    data: {
      metrics,
      params: Object.fromEntries((wire.data?.params ?? []).map((p) => [p.key, p.value])),
      tags: Object.fromEntries((wire.data?.tags ?? []).map((t) => [t.key, t.value])),
    },
  };
}

function experimentFromWire(e: Record<string, unknown>): Experiment {
  return {
    experimentId: String(e.experiment_id),
    name: String(e.name),
    artifactLocation: String(e.artifact_location ?? ''),
    lifecycleStage: String(e.lifecycle_stage ?? 'active'),
    creationTime: e.creation_time as number | undefined,
    lastUpdateTime: e.last_update_time as number | undefined,
    tags: Object.fromEntries(((e.tags as KeyValue[] | undefined) ?? []).map((t) => [t.key, t.value])),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RestTrackingStore implements TrackingStore {
  private readonly base: string;
  private readonly agent: Agent;
  private readonly retry: RetryPolicy;
  /** run id → experiment id, for artifact paths. */
  private readonly experimentOfRun = new Map<string, string>();

  constructor(private readonly options: RestTrackingStoreOptions) {
    this.base = options.uri.replace(/\/+$/, '');
    this.agent = new Agent({ connectTimeout: options.connectTimeoutMs ?? 5_000, keepAliveTimeout: 4_000 });
    this.retry = { attempts: 6, baseDelayMs: 250, maxDelayMs: 8_000, ...options.retry };
  }

  get location(): string {
    return this.base;
  }

  /** One HTTP call with retries; returns the parsed JSON (or raw bytes when `raw`). */
  private async call(method: 'GET' | 'POST' | 'PUT', path: string, options: { query?: Record<string, string | number | undefined>; json?: unknown; body?: Uint8Array | string; raw?: boolean } = {}): Promise<unknown> {
    const url = new URL(`${this.base}${path}`);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const endpoint = `${method} ${path.replace('/api/2.0/', '')}`;
    const body = options.json !== undefined ? JSON.stringify(options.json) : options.body;
    const headers: Record<string, string> = { ...this.options.headers };
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    let lastError: MlflowError | undefined;
    for (let attempt = 1; attempt <= this.retry.attempts; attempt++) {
      let retryAfterMs: number | undefined;
      try {
        const response = await request(url, {
          method, body, headers, dispatcher: this.agent,
          headersTimeout: this.options.requestTimeoutMs ?? 60_000,
          bodyTimeout: this.options.requestTimeoutMs ?? 60_000,
          signal: AbortSignal.timeout((this.options.requestTimeoutMs ?? 60_000) + 1_000),
        });
        const bytes = Buffer.from(await response.body.arrayBuffer());
        if (response.statusCode < 300) {
          if (options.raw) return bytes;
          return bytes.length ? JSON.parse(bytes.toString('utf8')) : {};
        }
        let parsed: { error_code?: string; message?: string } | undefined;
        try {
          parsed = JSON.parse(bytes.toString('utf8'));
        } catch {
          parsed = { message: bytes.toString('utf8').slice(0, 300) || `HTTP ${response.statusCode}` };
        }
        const error = errorFromResponse(response.statusCode, parsed, endpoint);
        const retryable = (response.statusCode === 429 || response.statusCode >= 500) && !(error instanceof MlflowParamConflictError);
        if (!retryable) throw error;
        const header = response.headers['retry-after'];
        if (typeof header === 'string' && Number(header) > 0) retryAfterMs = Number(header) * 1000;
        lastError = error;
      } catch (error) {
        if (error instanceof MlflowError) {
          if (error !== lastError) throw error;
        } else {
          const code = (error as { code?: string }).code ?? (error as Error).name;
          const isTimeout = error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
          if (!RETRYABLE_CODES.has(code) && !isTimeout && !(error instanceof undiciErrors.SocketError)) {
            throw new MlflowUnavailableError(`${(error as Error).message} (${code})`, 'UNAVAILABLE', undefined, endpoint);
          }
          lastError = new MlflowUnavailableError(`${this.base} did not answer: ${(error as Error).message} (${code})`, 'UNAVAILABLE', undefined, endpoint);
        }
      }
      if (attempt < this.retry.attempts) {
        const cap = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
        const delayMs = retryAfterMs ?? Math.round(Math.random() * cap);
        this.options.onRetry?.({ endpoint, attempt, delayMs, reason: lastError!.message });
        await sleep(delayMs);
      }
    }
    throw lastError!;
  }

  private api(path: string): string {
    return `/api/2.0/mlflow/${path}`;
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    try {
      const out = (await this.call('GET', this.api('experiments/get-by-name'), { query: { experiment_name: name } })) as { experiment: Record<string, unknown> };
      return experimentFromWire(out.experiment);
    } catch (error) {
      if (error instanceof MlflowResourceNotFoundError) return undefined;
      throw error;
    }
  }

  private readonly creating = new Map<string, Promise<string>>();

  /**
   * MLflow's file-store server does not serialise experiment creation: two concurrent creates of
   * one name can both succeed. Callers in this process share one request, and every caller returns
   * the id that get-by-name answers after creating, so racing processes converge on one experiment.
   */
  getOrCreateExperiment(name: string, tags: Record<string, string> = {}): Promise<string> {
    let pending = this.creating.get(name);
    if (!pending) {
      pending = this.createOnce(name, tags).finally(() => this.creating.delete(name));
      this.creating.set(name, pending);
    }
    return pending;
  }

  private async createOnce(name: string, tags: Record<string, string>): Promise<string> {
    const existing = await this.getExperimentByName(name);
    if (existing) return existing.experimentId;
    try {
      const out = (await this.call('POST', this.api('experiments/create'), { json: { name, tags: Object.entries(tags).map(([key, value]) => ({ key, value })) } })) as { experiment_id: string };
      return (await this.getExperimentByName(name))?.experimentId ?? String(out.experiment_id);
    } catch (error) {
      if (!(error instanceof MlflowResourceAlreadyExistsError)) throw error;
      const winner = await this.getExperimentByName(name);
      if (!winner) throw error;
      return winner.experimentId;
    }
  }

  async createRun(request: CreateRunRequest): Promise<Run> {
    const tags: Record<string, string> = { ...request.tags };
    if (request.parentRunId) tags[MLFLOW_TAGS.parentRunId] = request.parentRunId;
    if (request.runName) tags[MLFLOW_TAGS.runName] = request.runName;
    const out = (await this.call('POST', this.api('runs/create'), {
      json: {
        experiment_id: request.experimentId,
        run_name: request.runName,
        start_time: request.startTime ?? Date.now(),
        user_id: request.userId ?? 'cfa',
        tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
      },
    })) as { run: WireRun };
    const run = runFromWire(out.run);
    this.experimentOfRun.set(run.info.runId, run.info.experimentId);
    return run;
  }

  async updateRun({ runId, status, endTime, runName }: UpdateRunRequest): Promise<void> {
    await this.call('POST', this.api('runs/update'), { json: { run_id: runId, status, end_time: endTime, run_name: runName } });
  }

  async getRun(runId: string): Promise<Run> {
    const out = (await this.call('GET', this.api('runs/get'), { query: { run_id: runId } })) as { run: WireRun };
    const run = runFromWire(out.run);
    this.experimentOfRun.set(runId, run.info.experimentId);
    return run;
  }

  async searchRuns(request: SearchRunsRequest): Promise<SearchRunsResult> {
    const out = (await this.call('POST', this.api('runs/search'), {
      json: {
        experiment_ids: request.experimentIds,
        filter: request.filter ?? '',
        max_results: request.maxResults ?? 1000,
        order_by: request.orderBy ?? [],
        page_token: request.pageToken,
        run_view_type: 'ACTIVE_ONLY',
      },
    })) as { runs?: WireRun[]; next_page_token?: string };
    return { runs: (out.runs ?? []).map(runFromWire), nextPageToken: out.next_page_token || undefined };
  }

  async logBatch(runId: string, batch: Batch): Promise<void> {
    for (const chunk of chunkBatch(normalizeBatch(batch))) {
      await this.call('POST', this.api('runs/log-batch'), {
        json: {
          run_id: runId,
          metrics: chunk.metrics.map((m) => ({ key: m.key, value: encodeMetricValue(m.value), timestamp: Math.trunc(m.timestamp), step: Math.trunc(m.step) })),
          params: chunk.params,
          tags: chunk.tags,
        },
      });
    }
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.logBatch(runId, { tags: [{ key, value }] });
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    const out: Metric[] = [];
    let pageToken: string | undefined;
    do {
      // without max_results this server returns only a page token
      const page = (await this.call('GET', this.api('metrics/get-history'), { query: { run_id: runId, metric_key: key, max_results: 25_000, page_token: pageToken } })) as { metrics?: Record<string, unknown>[]; next_page_token?: string };
      for (const m of page.metrics ?? []) out.push({ key, value: decodeMetricValue(m.value), timestamp: Number(m.timestamp), step: Number(m.step ?? 0) });
      pageToken = page.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  private async artifactBase(runId: string): Promise<string> {
    let experimentId = this.experimentOfRun.get(runId);
    if (!experimentId) experimentId = (await this.getRun(runId)).info.experimentId;
    return `${experimentId}/${runId}/artifacts`;
  }

  private static encodePath(path: string): string {
    return path.split('/').filter(Boolean).map(encodeURIComponent).join('/');
  }

  async logArtifact(runId: string, artifactPath: string, content: Uint8Array | string): Promise<void> {
    const base = await this.artifactBase(runId);
    await this.call('PUT', `/api/2.0/mlflow-artifacts/artifacts/${base}/${RestTrackingStore.encodePath(artifactPath)}`, { body: content, raw: true });
  }

  async listArtifacts(runId: string, path = ''): Promise<ArtifactInfo[]> {
    const base = await this.artifactBase(runId);
    const dir = path ? `${base}/${path.replace(/\/$/, '')}` : base;
    const out = (await this.call('GET', '/api/2.0/mlflow-artifacts/artifacts', { query: { path: dir } })) as { files?: { path: string; is_dir?: boolean; file_size?: string | number }[] };
    return (out.files ?? []).map((f) => ({
      path: path ? `${path.replace(/\/$/, '')}/${f.path}` : f.path,
      isDir: !!f.is_dir,
      ...(f.is_dir ? {} : { fileSize: Number(f.file_size) }),
    }));
  }

  async downloadArtifact(runId: string, path: string): Promise<Buffer> {
    const base = await this.artifactBase(runId);
    return (await this.call('GET', `/api/2.0/mlflow-artifacts/artifacts/${base}/${RestTrackingStore.encodePath(path)}`, { raw: true })) as Buffer;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
