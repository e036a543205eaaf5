/**
 * MLflow's REST API on undici, for `MLFLOW_TRACKING_URI`: JSON to `/api/2.0/mlflow/...`, artifacts
 * through the server's proxy (`/api/2.0/mlflow-artifacts/artifacts/<exp_id>/<run_id>/artifacts/<path>`).
 *
 * - Credentials and TLS from the environment, as MLflow's clients read them (credentials.ts):
 *   `MLFLOW_TRACKING_USERNAME`/`_PASSWORD` (Basic), `MLFLOW_TRACKING_TOKEN` (Bearer),
 *   `MLFLOW_TRACKING_INSECURE_TLS`, `MLFLOW_TRACKING_SERVER_CERT_PATH`, `MLFLOW_TRACKING_CLIENT_CERT_PATH`.
 *   401 and 403 are not outages: `MlflowUnauthenticatedError` / `MlflowPermissionDeniedError` at
 *   once, never retried, with a message naming the server, the operation and what to set — and
 *   no secret (`location` is the URI without user info).
 * - Deadlines: `connectTimeoutMs` for the TCP connect, `requestTimeoutMs` per attempt, and
 *   `deadlineMs` for the whole call, retries and recovery included (uploads get 1 s more per MB).
 *   A server that accepts the connection and never answers costs at most `deadlineMs`, then
 *   `MlflowUnavailableError` with `errorCode` DEADLINE_EXCEEDED. `until(time)` gives a view of the
 *   store whose calls all end by that time (a spool replay bounded by `--sync-timeout-s`).
 * - Retries (retry-policy.ts): 429, 5xx and connection failures, with exponential backoff and full
 *   jitter, at most `retry.attempts` tries within the deadline; then the typed error
 *   (`MlflowUnavailableError` when nothing answered). Not retried: MLflow's deterministic 500s — a
 *   changed param (`MlflowParamConflictError`), a missing proxied artifact
 *   (`MlflowResourceNotFoundError`), INVALID_STATE.
 * - No duplicates from retries: when a failure is ambiguous (the server may have applied the
 *   request, e.g. the answer was lost), a log-batch is re-sent without the metric points the run
 *   already has, a run creation first looks for the run it may have made, an experiment creation
 *   for the experiment. Params, tags, run updates and artifact uploads are idempotent as they are.
 * - log-batch is split to MLflow's limits (chunk-batch.ts); NaN/±Infinity travel as MLflow's strings;
 *   metric history always sends `max_results` and follows page tokens.
 *
 * @example
 * ```ts
 * const store = new RestTrackingStore({ uri: 'http://127.0.0.1:5000', retry: { attempts: 6 } });
 * const experimentId = await store.getOrCreateExperiment('compression-sweep');
 * const run = await store.createRun({ experimentId, runName: 'gamma_c=4' });
 * await store.logBatch(run.info.runId, { metrics: [{ key: 'loss', value: NaN, timestamp: Date.now(), step: 0 }] });
 * await store.close();
 * ```
 */
import { userInfo } from 'node:os';
import { Agent, request } from 'undici';
import { z } from 'zod';
import { chunkBatch, type LogBatchBody } from './chunk-batch';
import {
  type ArtifactInfo,
  type Batch,
  type CreateRunRequest,
  CreateRunRequestSchema,
  type DatasetInputRequest,
  type Experiment,
  type Metric,
  MLFLOW_TAGS,
  type Run,
  type SearchRunsRequest,
  SearchRunsRequestSchema,
  type SearchRunsResult,
  type UpdateRunRequest,
  UpdateRunRequestSchema,
} from './entities';
import { redactUri, type TrackingCredentials, trackingCredentials } from './credentials';
import {
  type ErrorBody,
  errorFromResponse,
  MlflowError,
  MlflowInvalidParameterError,
  MlflowParamConflictError,
  MlflowPermissionDeniedError,
  MlflowRateLimitError,
  MlflowResourceAlreadyExistsError,
  MlflowResourceNotFoundError,
  MlflowServerError,
  MlflowUnauthenticatedError,
  MlflowUnavailableError,
} from './errors';
import { decodeMetricValue } from './metric-value';
import {
  backoffDelayMs,
  classifyNetworkError,
  type RetryPolicy,
  RetryPolicySchema,
  retryAfterMs,
} from './retry-policy';
import { BatchLoggingStore, findRunCreatedBy, type TrackingStore } from './tracking-store';
import { normalizeBatch, normalizeDatasetInputs, validateExperimentName, validateKey } from './validation';
import {
  artifactFromWire,
  datasetInputToWire,
  experimentFromWire,
  metricFromWire,
  runFromWire,
  runToWire,
  type WireRun,
} from './wire-format';

export interface RetryEvent {
  endpoint: string;
  /** The attempt that failed (1-based). */
  attempt: number;
  delayMs: number;
  reason: string;
}

export const RestTrackingStoreOptionsSchema = z.strictObject({
  /** The tracking server, e.g. `http://127.0.0.1:5000` (a path prefix is kept; user info becomes Basic auth). */
  uri: z.string().regex(/^https?:\/\/[^/]/i, 'expected an http:// or https:// URL'),
  connectTimeoutMs: z.number().positive().default(5_000),
  /** Per attempt, until the whole answer has arrived. */
  requestTimeoutMs: z.number().positive().default(30_000),
  /** Per call, every attempt, backoff and recovery included: the longest any call of this store takes. */
  deadlineMs: z.number().positive().default(60_000),
  retry: RetryPolicySchema.partial().optional(),
  /** Page size for metric history (the server answers nothing without one). */
  historyPageSize: z.number().int().positive().default(25_000),
  headers: z.record(z.string(), z.string()).optional(),
  /** user_id of new runs when the request names none (default: the Basic user, else the OS user, as MLflow's client). */
  defaultUserId: z.string().optional(),
  /** Where credentials and TLS settings are read (`MLFLOW_TRACKING_*`); default `process.env`. */
  env: z
    .custom<Record<string, string | undefined>>((v) => typeof v === 'object' && v !== null, 'expected an object')
    .optional(),
  /** Called before each retry, for logs. */
  onRetry: z.custom<(event: RetryEvent) => void>((v) => typeof v === 'function', 'expected a function').optional(),
});
export type RestTrackingStoreOptions = z.input<typeof RestTrackingStoreOptionsSchema>;

interface CallOptions {
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  body?: Uint8Array | string;
  raw?: boolean;
  /** A GET of a proxied artifact: its 500 "No such file" is a 404. */
  artifactDownload?: boolean;
  /** 5xx answers are final (they are deterministic for this endpoint). */
  noRetryOn5xx?: boolean;
  /**
   * Before re-sending after an ambiguous failure (the server may have applied the request): return
   * `{ done }` to finish with that answer, `{ json }` to send another body, or undefined to re-send.
   * `store` is this store bounded by the call's deadline.
   */
  recover?: (store: RestTrackingStore) => Promise<{ done: unknown } | { json: unknown } | undefined>;
}

type Attempt =
  | { ok: true; value: unknown }
  | { ok: false; error: MlflowError; retryable: boolean; ambiguous: boolean; retryAfterMs?: number };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? '';
  }
}

/** OpenSSL's verdicts on a server certificate (Node's `error.code`), which retrying cannot change. */
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What to do about a TLS failure, or undefined when the error is something else. */
function tlsProblem(error: unknown): string | undefined {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.code ?? e?.cause?.code;
  const text = `${e?.message ?? ''} ${e?.cause?.message ?? ''}`;
  if (code && CERTIFICATE_CODES.has(code))
    return `its TLS certificate is not trusted (${code}): set MLFLOW_TRACKING_SERVER_CERT_PATH to the CA bundle (PEM) that signed it, or MLFLOW_TRACKING_INSECURE_TLS=true to skip the check`;
  if (/certificate required|alert.*(?:handshake|certificate)|bad certificate/i.test(text))
    return `the TLS handshake failed (${text.trim()}): the server may want a client certificate — set MLFLOW_TRACKING_CLIENT_CERT_PATH to a PEM holding it and its key`;
  return undefined;
}

const isTransient = (error: unknown) =>
  error instanceof MlflowUnavailableError ||
  error instanceof MlflowRateLimitError ||
  error instanceof MlflowServerError;

export class RestTrackingStore extends BatchLoggingStore implements TrackingStore {
  private readonly base: string;
  private readonly agent: Agent;
  private readonly retry: RetryPolicy;
  private readonly options: Omit<z.output<typeof RestTrackingStoreOptionsSchema>, 'env'>;
  /** Credentials behind a closure, so that printing the store shows no secret (views share it). */
  private readonly credentials: () => TrackingCredentials;
  /** Set on the views `until` returns: every call of the view ends by then. */
  private deadlineAt?: number;
  /** run id → artifact_uri, for artifact routes. */
  private readonly artifactUris = new Map<string, string>();
  /** In-process callers creating one experiment share one request. */
  private readonly creating = new Map<string, Promise<string>>();

  constructor(options: RestTrackingStoreOptions) {
    super();
    const parsed = RestTrackingStoreOptionsSchema.safeParse(options);
    if (!parsed.success)
      throw new MlflowInvalidParameterError(
        `RestTrackingStore options: ${z.prettifyError(parsed.error)}`,
        'INVALID_PARAMETER_VALUE',
      );
    // the environment (and the URI's user info) are read once and not kept: nothing printable holds a secret
    const { env, ...rest } = parsed.data;
    const credentials = trackingCredentials(env ?? process.env, parsed.data.uri);
    this.credentials = () => credentials;
    this.options = { ...rest, uri: redactUri(rest.uri) };
    this.base = this.options.uri.replace(/\/+$/, '');
    const { tls } = credentials;
    this.agent = new Agent({
      keepAliveTimeout: 4_000,
      connect: { timeout: this.options.connectTimeoutMs, ...tls },
    });
    this.retry = RetryPolicySchema.parse(this.options.retry ?? {});
  }

  get location(): string {
    return this.base;
  }

  /** How this store authenticates, for logs: the variables and the user, never a secret. */
  get authentication(): string {
    return this.credentials().description;
  }

  /** The Basic-auth user, when there is one (MLflow's `mlflow.user` then names it). */
  get username(): string | undefined {
    return this.credentials().username;
  }

  /**
   * This store with every call — attempts, backoff, recovery — ending by `deadlineAt` (ms since
   * the epoch), or earlier by its own `deadlineMs`. It shares this store's connections and state.
   */
  until(deadlineAt: number): RestTrackingStore {
    const view = Object.create(this) as RestTrackingStore;
    view.deadlineAt = Math.min(deadlineAt, this.deadlineAt ?? Infinity);
    return view;
  }

  /** The typed error for a 401 or 403, saying what to set: the server, the operation, the variables, no secret. */
  private authError(status: 401 | 403, endpoint: string, serverMessage: string | undefined): MlflowError {
    const creds = this.credentials();
    if (status === 401) {
      const advice =
        creds.kind === 'none'
          ? 'this server needs credentials: set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (MLflow basic-auth) or MLFLOW_TRACKING_TOKEN (a bearer token)'
          : creds.kind === 'basic'
            ? `it refused ${creds.description}: a wrong password or an unknown user (check MLFLOW_TRACKING_PASSWORD)`
            : `it refused ${creds.description}: a wrong or expired token`;
      return new MlflowUnauthenticatedError(
        `${this.base} answered 401 (not authenticated): ${advice}`,
        'UNAUTHENTICATED',
        401,
        endpoint,
      );
    }
    const said = serverMessage && serverMessage.length < 200 ? ` (server: ${serverMessage})` : '';
    return new MlflowPermissionDeniedError(
      `${this.base} answered 403 (permission denied) for ${creds.description}${said}: these credentials may not do this. MLflow's basic-auth app gives a user READ on experiments it did not create: ask an admin for EDIT on the experiment, or log to an experiment of your own (MLFLOW_EXPERIMENT_NAME)`,
      'PERMISSION_DENIED',
      403,
      endpoint,
    );
  }

  private async attempt(
    method: string,
    url: URL,
    endpoint: string,
    body: string | Uint8Array | undefined,
    options: CallOptions,
    timeout: number,
  ): Promise<Attempt> {
    const headers: Record<string, string> = { ...this.options.headers };
    const { authorization } = this.credentials();
    if (authorization) headers.authorization = authorization;
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    else if (body !== undefined) headers['content-type'] = 'application/octet-stream';
    try {
      const response = await request(url, {
        method: method as 'GET',
        body,
        headers,
        dispatcher: this.agent,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: AbortSignal.timeout(timeout),
      });
      const bytes = Buffer.from(await response.body.arrayBuffer());
      if (response.statusCode < 300)
        return { ok: true, value: options.raw ? bytes : bytes.length ? JSON.parse(bytes.toString('utf8')) : {} };
      let parsed: ErrorBody;
      try {
        parsed = JSON.parse(bytes.toString('utf8')) as ErrorBody;
      } catch {
        // Flask's HTML error pages: keep the text, without the markup
        parsed = {
          message:
            bytes
              .toString('utf8')
              .replace(/<[^>]+>/g, ' ')
              .replace(/\s+/g, ' ')
              .trim()
              .slice(0, 300) || `HTTP ${response.statusCode}`,
        };
      }
      if (response.statusCode === 401 || response.statusCode === 403)
        return {
          ok: false,
          error: this.authError(response.statusCode, endpoint, parsed.message),
          retryable: false,
          ambiguous: false,
        };
      const error = errorFromResponse(response.statusCode, parsed, endpoint, {
        artifactDownload: options.artifactDownload,
      });
      const deterministic =
        error instanceof MlflowParamConflictError ||
        error instanceof MlflowResourceNotFoundError ||
        error.errorCode === 'INVALID_STATE' ||
        (options.noRetryOn5xx && response.statusCode >= 500);
      const retryable = (response.statusCode === 429 || response.statusCode >= 500) && !deterministic;
      return {
        ok: false,
        error,
        retryable,
        ambiguous: response.statusCode >= 500,
        retryAfterMs: retryAfterMs(response.headers['retry-after'], this.retry.maxDelayMs),
      };
    } catch (error) {
      const tls = tlsProblem(error);
      if (tls)
        return {
          ok: false,
          error: new MlflowError(`${this.base}: ${tls}`, 'TLS_ERROR', undefined, endpoint),
          retryable: false,
          ambiguous: false,
        };
      const failure = classifyNetworkError(error);
      if (!failure.retryable) throw error;
      const message = `${this.base} did not answer: ${(error as Error).message} (${failure.code})`;
      return {
        ok: false,
        error: new MlflowUnavailableError(message, 'UNAVAILABLE', undefined, endpoint),
        retryable: true,
        ambiguous: failure.ambiguous,
      };
    }
  }

  /** One REST call with retries, within its deadline; the parsed JSON, or the raw bytes with `raw`. */
  private async call(method: 'GET' | 'POST' | 'PUT', path: string, options: CallOptions = {}): Promise<unknown> {
    const url = new URL(`${this.base}${path}`);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const endpoint = `${method} ${path.replace(/^\/api\/2\.0\//, '')}`;
    let body = options.json !== undefined ? JSON.stringify(options.json) : options.body;
    // an upload may take its time on a slow link: a second more per megabyte
    const uploadMs = options.body ? Math.ceil(options.body.length / 1_000_000) * 1_000 : 0;
    const start = Date.now();
    const deadlineAt = Math.min(this.deadlineAt ?? Infinity, start + this.options.deadlineMs + uploadMs);
    const bounded = this.until(deadlineAt);
    let last: Extract<Attempt, { ok: false }> | undefined;
    let ambiguous = false;
    for (let attempt = 1; attempt <= this.retry.attempts; attempt++) {
      const remaining = deadlineAt - Date.now();
      if (remaining <= 0) throw this.deadlineError(endpoint, deadlineAt - start, last);
      let result: Attempt | undefined;
      if (ambiguous && options.recover) {
        try {
          const recovered = await options.recover(bounded);
          if (recovered && 'done' in recovered) return recovered.done;
          if (recovered && 'json' in recovered) body = JSON.stringify(recovered.json);
        } catch (error) {
          if (!isTransient(error)) throw error;
          // the server is still away: this attempt failed like the last one
          result = { ok: false, error: error as MlflowError, retryable: true, ambiguous: true };
        }
      }
      result ??= await this.attempt(
        method,
        url,
        endpoint,
        body,
        options,
        Math.min(this.options.requestTimeoutMs + uploadMs, Math.max(1, deadlineAt - Date.now())),
      );
      if (result.ok) return result.value;
      if (!result.retryable) throw result.error;
      last = result;
      ambiguous ||= result.ambiguous;
      if (attempt < this.retry.attempts) {
        const delayMs = result.retryAfterMs ?? backoffDelayMs(this.retry, attempt);
        // a wait that would end past the deadline is not worth starting
        if (Date.now() + delayMs >= deadlineAt) throw this.deadlineError(endpoint, deadlineAt - start, last);
        this.options.onRetry?.({ endpoint, attempt, delayMs, reason: result.error.message });
        await sleep(delayMs);
      }
    }
    throw last!.error;
  }

  private deadlineError(endpoint: string, budgetMs: number, last: Extract<Attempt, { ok: false }> | undefined) {
    const cause = last ? `; last: ${last.error.message.replace(`${endpoint}: `, '')}` : '';
    // a server that answers for good (4xx) has thrown before; what is left is "no usable answer"
    if (last && !(last.error instanceof MlflowUnavailableError) && last.error.status) return last.error;
    return new MlflowUnavailableError(
      `${this.base} gave no answer within ${(budgetMs / 1000).toFixed(1)} s, the deadline of a tracking request${cause}`,
      'DEADLINE_EXCEEDED',
      undefined,
      endpoint,
    );
  }

  private api(path: string): string {
    return `/api/2.0/mlflow/${path}`;
  }

  /**
   * The oldest experiment with this name, active or deleted. MLflow's file-store server can create
   * one name twice when clients race (observed on 3.6), and its get-by-name then answers the newest;
   * taking the oldest instead gives every client, whenever it asks, the same id.
   */
  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    if (name.includes("'") && name.includes('"')) return this.getExperimentByNameEndpoint(name);
    const quote = name.includes("'") ? '"' : "'";
    const out = (await this.call('POST', this.api('experiments/search'), {
      json: {
        filter: `name = ${quote}${name}${quote}`,
        view_type: 'ALL',
        max_results: 1000,
        order_by: ['creation_time ASC', 'experiment_id ASC'],
      },
    })) as { experiments?: unknown[] };
    const found = (out.experiments ?? []).map(experimentFromWire).filter((e) => e.name === name);
    return found[0];
  }

  /** MLflow's get-by-name, for names the search filter cannot quote. */
  private async getExperimentByNameEndpoint(name: string): Promise<Experiment | undefined> {
    try {
      const out = (await this.call('GET', this.api('experiments/get-by-name'), {
        query: { experiment_name: name },
      })) as { experiment: unknown };
      return experimentFromWire(out.experiment);
    } catch (error) {
      if (error instanceof MlflowResourceNotFoundError) return undefined;
      throw error;
    }
  }

  async createExperiment(name: string, tags: Record<string, string> = {}): Promise<string> {
    validateExperimentName(name);
    for (const key of Object.keys(tags)) validateKey('tag', key);
    const out = (await this.call('POST', this.api('experiments/create'), {
      json: { name, tags: Object.entries(tags).map(([key, value]) => ({ key, value })) },
      // an answer lost after the server created it: the retry would say "already exists"
      recover: async (store) => {
        const e = await store.getExperimentByName(name);
        return e ? { done: { experiment_id: e.experimentId } } : undefined;
      },
    })) as { experiment_id: string };
    return String(out.experiment_id);
  }

  /**
   * MLflow's file-store server does not serialise experiment creation, so two processes creating
   * one name at once can both succeed. Callers in this process share one request, and every caller
   * returns what get-by-name answers after its create, so racing processes converge on one id.
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
      const id = await this.createExperiment(name, tags);
      return (await this.getExperimentByName(name))?.experimentId ?? id;
    } catch (error) {
      if (!(error instanceof MlflowResourceAlreadyExistsError)) throw error;
      const winner = await this.getExperimentByName(name);
      if (!winner) throw error;
      return winner.experimentId;
    }
  }

  async createRun(request: CreateRunRequest): Promise<Run> {
    const parsed = CreateRunRequestSchema.safeParse(request);
    if (!parsed.success)
      throw new MlflowInvalidParameterError(`createRun: ${z.prettifyError(parsed.error)}`, 'INVALID_PARAMETER_VALUE');
    // a fixed start time also identifies the run if the answer is lost
    const r = { ...parsed.data, startTime: parsed.data.startTime ?? Date.now() };
    const tags: Record<string, string> = { ...r.tags };
    if (r.parentRunId) tags[MLFLOW_TAGS.parentRunId] = r.parentRunId;
    if (r.runName) tags[MLFLOW_TAGS.runName] = r.runName;
    normalizeBatch({ tags: Object.entries(tags).map(([key, value]) => ({ key, value })) });
    const out = (await this.call('POST', this.api('runs/create'), {
      json: {
        experiment_id: r.experimentId,
        ...(r.runName ? { run_name: r.runName } : {}),
        start_time: r.startTime,
        user_id: r.userId ?? this.options.defaultUserId ?? this.credentials().username ?? osUser(),
        tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
      },
      recover: async (store) => {
        const found = await findRunCreatedBy(store, r);
        return found ? { done: { run: runToWire(found) } } : undefined;
      },
    })) as { run: WireRun };
    const run = runFromWire(out.run);
    this.artifactUris.set(run.info.runId, run.info.artifactUri);
    return run;
  }

  async updateRun(request: UpdateRunRequest): Promise<void> {
    const parsed = UpdateRunRequestSchema.safeParse(request);
    if (!parsed.success)
      throw new MlflowInvalidParameterError(`updateRun: ${z.prettifyError(parsed.error)}`, 'INVALID_PARAMETER_VALUE');
    const { runId, status, endTime, runName } = parsed.data;
    await this.call('POST', this.api('runs/update'), {
      json: {
        run_id: runId,
        status,
        ...(endTime !== undefined ? { end_time: endTime } : {}),
        ...(runName ? { run_name: runName } : {}),
      },
    });
  }

  async getRun(runId: string): Promise<Run> {
    const out = (await this.call('GET', this.api('runs/get'), { query: { run_id: runId } })) as { run: unknown };
    const run = runFromWire(out.run);
    this.artifactUris.set(runId, run.info.artifactUri);
    return run;
  }

  async searchRuns(request: SearchRunsRequest): Promise<SearchRunsResult> {
    const parsed = SearchRunsRequestSchema.safeParse(request);
    if (!parsed.success)
      throw new MlflowInvalidParameterError(`searchRuns: ${z.prettifyError(parsed.error)}`, 'INVALID_PARAMETER_VALUE');
    const r = parsed.data;
    const out = (await this.call('POST', this.api('runs/search'), {
      json: {
        experiment_ids: r.experimentIds,
        filter: r.filter ?? '',
        max_results: r.maxResults ?? 1000,
        order_by: r.orderBy ?? [],
        ...(r.pageToken ? { page_token: r.pageToken } : {}),
        run_view_type: 'ACTIVE_ONLY',
      },
    })) as { runs?: unknown[]; next_page_token?: string };
    const runs = (out.runs ?? []).map(runFromWire);
    for (const run of runs) this.artifactUris.set(run.info.runId, run.info.artifactUri);
    return { runs, ...(out.next_page_token ? { nextPageToken: out.next_page_token } : {}) };
  }

  /** The request without the metric points the run already has (for a re-send after a lost answer). */
  private static async withoutDeliveredMetrics(
    store: RestTrackingStore,
    body: LogBatchBody,
  ): Promise<{ done: unknown } | { json: unknown }> {
    if (!body.metrics.length) return { json: body };
    const have = new Set<string>();
    for (const key of new Set(body.metrics.map((m) => m.key))) {
      for (const m of await store.getMetricHistory(body.run_id, key))
        have.add(`${key}|${m.step}|${m.timestamp}|${m.value}`);
    }
    const metrics = body.metrics.filter(
      (m) => !have.has(`${m.key}|${m.step}|${m.timestamp}|${decodeMetricValue(m.value)}`),
    );
    if (!metrics.length && !body.params.length && !body.tags.length) return { done: {} };
    return { json: { ...body, metrics } };
  }

  async logBatch(runId: string, batch: Batch): Promise<void> {
    for (const body of chunkBatch(runId, normalizeBatch(batch))) {
      await this.call('POST', this.api('runs/log-batch'), {
        json: body,
        recover: (store) => RestTrackingStore.withoutDeliveredMetrics(store, body),
      });
    }
  }

  async logInputs(runId: string, datasets: DatasetInputRequest[]): Promise<void> {
    const inputs = normalizeDatasetInputs(datasets);
    if (!inputs.length) return;
    // the server ignores an input it already has: re-sending after a lost answer is safe
    await this.call('POST', this.api('runs/log-inputs'), {
      json: { run_id: runId, datasets: inputs.map(datasetInputToWire) },
    });
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    const out = (await this.call('GET', this.api('experiments/get'), {
      query: { experiment_id: experimentId },
    })) as { experiment: unknown };
    return experimentFromWire(out.experiment);
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    validateKey('metric', key);
    const out: Metric[] = [];
    let pageToken: string | undefined;
    do {
      const page = (await this.call('GET', this.api('metrics/get-history'), {
        query: { run_id: runId, metric_key: key, max_results: this.options.historyPageSize, page_token: pageToken },
      })) as { metrics?: Parameters<typeof metricFromWire>[0][]; next_page_token?: string };
      for (const m of page.metrics ?? []) out.push(metricFromWire(m));
      pageToken = page.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  /** Where a run's artifacts are served: the proxy path for mlflow-artifacts URIs, else none. */
  private async proxiedRoot(runId: string): Promise<string | undefined> {
    const uri = this.artifactUris.get(runId) ?? (await this.getRun(runId)).info.artifactUri;
    const marker = '/api/2.0/mlflow-artifacts/artifacts/';
    if (uri.startsWith('mlflow-artifacts:')) return new URL(uri).pathname.replace(/^\/+|\/+$/g, '');
    if (/^https?:/.test(uri) && uri.includes(marker))
      return uri.slice(uri.indexOf(marker) + marker.length).replace(/\/+$/, '');
    return undefined;
  }

  private static relative(path: string): string {
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..'))
      throw new MlflowInvalidParameterError(
        `Invalid artifact path: '${path}' leaves the run's artifact root`,
        'INVALID_PARAMETER_VALUE',
      );
    return parts.join('/');
  }

  private static encode(path: string): string {
    return path.split('/').map(encodeURIComponent).join('/');
  }

  async logArtifact(runId: string, artifactPath: string, content: Uint8Array | string): Promise<void> {
    const path = RestTrackingStore.relative(artifactPath);
    if (!path) throw new MlflowInvalidParameterError('artifact path must name a file', 'INVALID_PARAMETER_VALUE');
    const root = await this.proxiedRoot(runId);
    if (root === undefined) {
      throw new MlflowError(
        `run ${runId} keeps its artifacts at '${this.artifactUris.get(runId)}', which this server does not proxy; only proxied artifact roots (mlflow-artifacts:) can be written over REST`,
        'NOT_IMPLEMENTED',
      );
    }
    await this.call('PUT', `/api/2.0/mlflow-artifacts/artifacts/${RestTrackingStore.encode(`${root}/${path}`)}`, {
      body: content,
      raw: true,
    });
  }

  async listArtifacts(runId: string, path = ''): Promise<ArtifactInfo[]> {
    const rel = RestTrackingStore.relative(path);
    const root = await this.proxiedRoot(runId);
    const out = (
      root === undefined
        ? await this.call('GET', this.api('artifacts/list'), {
            query: { run_id: runId, ...(rel ? { path: rel } : {}) },
          })
        : await this.call('GET', '/api/2.0/mlflow-artifacts/artifacts', {
            query: { path: rel ? `${root}/${rel}` : root },
          })
    ) as { files?: unknown[] };
    return (out.files ?? []).map((f) => artifactFromWire(f, rel)).sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  async downloadArtifact(runId: string, path: string): Promise<Buffer> {
    const rel = RestTrackingStore.relative(path);
    const root = await this.proxiedRoot(runId);
    if (root !== undefined) {
      return (await this.call(
        'GET',
        `/api/2.0/mlflow-artifacts/artifacts/${RestTrackingStore.encode(`${root}/${rel}`)}`,
        { raw: true, artifactDownload: true },
      )) as Buffer;
    }
    try {
      return (await this.call('GET', '/get-artifact', {
        query: { run_id: runId, path: rel },
        raw: true,
        noRetryOn5xx: true,
      })) as Buffer;
    } catch (error) {
      // get-artifact answers a missing file with Flask's bare 500 page: tell the two apart by listing
      if (!(error instanceof MlflowServerError)) throw error;
      const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
      const listed = await this.listArtifacts(runId, parent);
      if (listed.some((a) => a.path === rel && !a.isDir)) throw error;
      throw new MlflowResourceNotFoundError(
        `artifact '${rel}' of run ${runId} does not exist`,
        'RESOURCE_DOES_NOT_EXIST',
        error.status,
        error.endpoint,
      );
    }
  }

  /** Closes the connections; a request still waiting for a server that never answers is cut after 1 s. */
  async close(): Promise<void> {
    const closed = this.agent.close();
    const idle = await Promise.race([closed.then(() => true), sleep(1_000).then(() => false)]);
    if (!idle) await this.agent.destroy().catch(() => undefined);
  }
}
