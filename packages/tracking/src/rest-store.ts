/**
 * MLflow's REST API for `MLFLOW_TRACKING_URI`: JSON to `/api/2.0/mlflow/...`, artifacts through the
 * server's proxy (artifact-proxy.ts), logged models (MLflow 3: `logged-models`, `runs/outputs`,
 * metrics with `model_id`). Everything that touches the wire — credentials and TLS, deadlines,
 * retries, error mapping, recovery after a lost answer — is the shared transport's
 * (rest-transport.ts); this class says what each call sends and how it stays free of duplicates:
 *
 * - when a failure is ambiguous (the server may have applied the request, e.g. the answer was
 *   lost), a log-batch is re-sent without the metric points the run already has, a run creation
 *   first looks for the run it may have made, an experiment creation for the experiment, a logged
 *   model's creation for a model of that name from that run; `runs/outputs` and logged-model params
 *   send only what the server does not have yet (MLflow's SQL store refuses a repeat). Params, tags,
 *   run updates and artifact uploads are idempotent as they are.
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
import { z } from 'zod';
import { ArtifactProxy, proxyRoot, relativeArtifactPath } from './artifact-proxy';
import { chunkBatch, type LogBatchBody } from './chunk-batch';
import {
  type ArtifactInfo,
  type Batch,
  type CreateLoggedModelRequest,
  CreateLoggedModelRequestSchema,
  type CreateRunRequest,
  CreateRunRequestSchema,
  type DatasetInputRequest,
  type Experiment,
  type LoggedModel,
  type LoggedModelStatus,
  type Metric,
  MLFLOW_TAGS,
  type ModelOutput,
  ModelOutputSchema,
  type Run,
  type SearchLoggedModelsRequest,
  SearchLoggedModelsRequestSchema,
  type SearchLoggedModelsResult,
  type SearchRunsRequest,
  SearchRunsRequestSchema,
  type SearchRunsResult,
  type UpdateRunRequest,
  UpdateRunRequestSchema,
} from './entities';
import {
  MlflowError,
  MlflowInvalidParameterError,
  MlflowParamConflictError,
  MlflowResourceAlreadyExistsError,
  MlflowResourceNotFoundError,
  MlflowServerError,
} from './errors';
import { decodeMetricValue } from './metric-value';
import { type CallOptions, type Recovery, RestTransport, RestTransportOptionsSchema } from './rest-transport';
import {
  allPages,
  BatchLoggingStore,
  findRunCreatedBy,
  searchAllLoggedModels,
  type TrackingStore,
} from './tracking-store';
import {
  normalizeBatch,
  normalizeDatasetInputs,
  normalizeLoggedModelValues,
  parseRequest as parse,
  validateExperimentName,
  validateKey,
  validateLoggedModelName,
} from './validation';
import {
  artifactFromWire,
  datasetInputToWire,
  experimentFromWire,
  loggedModelFromWire,
  loggedModelStatusToWire,
  loggedModelToWire,
  metricFromWire,
  runFromWire,
  runToWire,
  type WireRun,
} from './wire-format';

export type { RetryEvent } from './rest-transport';

const StoreOptions = {
  /** Page size for metric history (the server answers nothing without one). */
  historyPageSize: z.number().int().positive().default(25_000),
  /** user_id of new runs when the request names none (default: the Basic user, else the OS user, as MLflow's client). */
  defaultUserId: z.string().optional(),
};

export const RestTrackingStoreOptionsSchema = RestTransportOptionsSchema.extend(StoreOptions);
/** Either the transport's options (a transport of its own), or `transport` to share one with other clients. */
export type RestTrackingStoreOptions =
  | z.input<typeof RestTrackingStoreOptionsSchema>
  | ({ transport: RestTransport } & z.input<z.ZodObject<typeof StoreOptions>>);

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? '';
  }
}

const wireKeyValues = (record: Record<string, string> = {}) =>
  Object.entries(record).map(([key, value]) => ({ key, value }));

export class RestTrackingStore extends BatchLoggingStore implements TrackingStore {
  /** The HTTP transport this store speaks through; other clients (the registry) may share it. */
  readonly transport: RestTransport;
  private readonly options: z.output<z.ZodObject<typeof StoreOptions>>;
  /** Whether `close` closes the transport (it does when the store made it). */
  private readonly ownsTransport: boolean;
  private readonly artifacts: ArtifactProxy;
  /** run id → artifact_uri, for artifact routes. */
  private readonly artifactUris = new Map<string, string>();
  /** In-process callers creating one experiment share one request. */
  private readonly creating = new Map<string, Promise<string>>();

  constructor(options: RestTrackingStoreOptions) {
    super();
    const { historyPageSize, defaultUserId, ...rest } = options as RestTrackingStoreOptions & {
      transport?: RestTransport;
    };
    this.options = parse(z.strictObject(StoreOptions), { historyPageSize, defaultUserId }, 'RestTrackingStore options');
    if (rest.transport) {
      const { transport, ...extra } = rest;
      if (Object.keys(extra).length)
        throw new MlflowInvalidParameterError(
          `RestTrackingStore options: ${Object.keys(extra).join(', ')} belong to the shared transport, not beside it`,
          'INVALID_PARAMETER_VALUE',
        );
      this.transport = transport;
      this.ownsTransport = false;
    } else {
      this.transport = new RestTransport(rest as z.input<typeof RestTransportOptionsSchema>);
      this.ownsTransport = true;
    }
    this.artifacts = new ArtifactProxy(this.transport);
  }

  get location(): string {
    return this.transport.location;
  }

  /** How this store authenticates, for logs: the variables and the user, never a secret. */
  get authentication(): string {
    return this.transport.authentication;
  }

  /** The Basic-auth user, when there is one (MLflow's `mlflow.user` then names it). */
  get username(): string | undefined {
    return this.transport.username;
  }

  /**
   * This store with every call — attempts, backoff, recovery — ending by `deadlineAt` (ms since
   * the epoch), or earlier by its own `deadlineMs`. It shares this store's connections and state.
   */
  until(deadlineAt: number): RestTrackingStore {
    const view = Object.create(this) as RestTrackingStore & { transport: RestTransport; artifacts: ArtifactProxy };
    const transport = this.transport.until(deadlineAt);
    Object.defineProperty(view, 'transport', { value: transport });
    Object.defineProperty(view, 'artifacts', { value: new ArtifactProxy(transport) });
    return view;
  }

  private call(
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    options: Omit<CallOptions, 'recover'> & { recover?: (store: RestTrackingStore) => Promise<Recovery> } = {},
  ): Promise<unknown> {
    const { recover, ...rest } = options;
    return this.transport.api(method, path, {
      ...rest,
      ...(recover ? { recover: (deadlineAt: number) => recover(this.until(deadlineAt)) } : {}),
    });
  }

  /**
   * The oldest experiment with this name, active or deleted. MLflow's file-store server can create
   * one name twice when clients race (observed on 3.6), and its get-by-name then answers the newest;
   * taking the oldest instead gives every client, whenever it asks, the same id.
   */
  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    if (name.includes("'") && name.includes('"')) return this.getExperimentByNameEndpoint(name);
    const quote = name.includes("'") ? '"' : "'";
    const out = (await this.call('POST', 'experiments/search', {
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
      const out = (await this.call('GET', 'experiments/get-by-name', {
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
    const out = (await this.call('POST', 'experiments/create', {
      json: { name, tags: wireKeyValues(tags) },
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
    const parsed = parse(CreateRunRequestSchema, request, 'createRun');
    // a fixed start time also identifies the run if the answer is lost
    const r = { ...parsed, startTime: parsed.startTime ?? Date.now() };
    const tags: Record<string, string> = { ...r.tags };
    if (r.parentRunId) tags[MLFLOW_TAGS.parentRunId] = r.parentRunId;
    if (r.runName) tags[MLFLOW_TAGS.runName] = r.runName;
    normalizeBatch({ tags: wireKeyValues(tags) });
    const out = (await this.call('POST', 'runs/create', {
      json: {
        experiment_id: r.experimentId,
        ...(r.runName ? { run_name: r.runName } : {}),
        start_time: r.startTime,
        user_id: r.userId ?? this.options.defaultUserId ?? this.transport.username ?? osUser(),
        tags: wireKeyValues(tags),
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
    const { runId, status, endTime, runName } = parse(UpdateRunRequestSchema, request, 'updateRun');
    await this.call('POST', 'runs/update', {
      json: {
        run_id: runId,
        status,
        ...(endTime !== undefined ? { end_time: endTime } : {}),
        ...(runName ? { run_name: runName } : {}),
      },
    });
  }

  async getRun(runId: string): Promise<Run> {
    const out = (await this.call('GET', 'runs/get', { query: { run_id: runId } })) as { run: unknown };
    const run = runFromWire(out.run);
    this.artifactUris.set(runId, run.info.artifactUri);
    return run;
  }

  async searchRuns(request: SearchRunsRequest): Promise<SearchRunsResult> {
    const r = parse(SearchRunsRequestSchema, request, 'searchRuns');
    const out = (await this.call('POST', 'runs/search', {
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
  private static async withoutDeliveredMetrics(store: RestTrackingStore, body: LogBatchBody): Promise<Recovery> {
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
      await this.call('POST', 'runs/log-batch', {
        json: body,
        recover: (store) => RestTrackingStore.withoutDeliveredMetrics(store, body),
      });
    }
  }

  async logInputs(runId: string, datasets: DatasetInputRequest[]): Promise<void> {
    const inputs = normalizeDatasetInputs(datasets);
    if (!inputs.length) return;
    // the server ignores an input it already has: re-sending after a lost answer is safe
    await this.call('POST', 'runs/log-inputs', {
      json: { run_id: runId, datasets: inputs.map(datasetInputToWire) },
    });
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    const out = (await this.call('GET', 'experiments/get', {
      query: { experiment_id: experimentId },
    })) as { experiment: unknown };
    return experimentFromWire(out.experiment);
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    validateKey('metric', key);
    return allPages(async (pageToken) => {
      const page = (await this.call('GET', 'metrics/get-history', {
        query: { run_id: runId, metric_key: key, max_results: this.options.historyPageSize, page_token: pageToken },
      })) as { metrics?: Parameters<typeof metricFromWire>[0][]; next_page_token?: string };
      return { items: (page.metrics ?? []).map(metricFromWire), nextPageToken: page.next_page_token };
    });
  }

  /** An upload to artifacts the server does not proxy (a server-side folder): REST cannot write there. */
  private static notProxied(owner: string, uri: string | undefined): MlflowError {
    return new MlflowError(
      `${owner} keeps its artifacts at '${uri}', which this server does not proxy; only proxied artifact roots (mlflow-artifacts:) can be written over REST`,
      'NOT_IMPLEMENTED',
    );
  }

  /** Where a run's artifacts are served: the proxy path for mlflow-artifacts URIs, else none. */
  private async runArtifactRoot(runId: string): Promise<string | undefined> {
    return proxyRoot(this.artifactUris.get(runId) ?? (await this.getRun(runId)).info.artifactUri);
  }

  async logArtifact(runId: string, artifactPath: string, content: Uint8Array | string): Promise<void> {
    if (!relativeArtifactPath(artifactPath))
      throw new MlflowInvalidParameterError('artifact path must name a file', 'INVALID_PARAMETER_VALUE');
    const root = await this.runArtifactRoot(runId);
    if (root === undefined) throw RestTrackingStore.notProxied(`run ${runId}`, this.artifactUris.get(runId));
    await this.artifacts.upload(root, artifactPath, content);
  }

  async listArtifacts(runId: string, path = ''): Promise<ArtifactInfo[]> {
    const rel = relativeArtifactPath(path);
    const root = await this.runArtifactRoot(runId);
    if (root !== undefined) return this.artifacts.list(root, rel);
    const out = (await this.call('GET', 'artifacts/list', {
      query: { run_id: runId, ...(rel ? { path: rel } : {}) },
    })) as { files?: unknown[] };
    return (out.files ?? []).map((f) => artifactFromWire(f, rel)).sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  async downloadArtifact(runId: string, path: string): Promise<Buffer> {
    const rel = relativeArtifactPath(path);
    const root = await this.runArtifactRoot(runId);
    if (root !== undefined) return this.artifacts.download(root, rel);
    try {
      return (await this.transport.call('GET', '/get-artifact', {
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

  // ── logged models (MLflow 3) ────────────────────────────────────────────────────────────────

  /**
   * A logged model in PENDING state. Not idempotent at the server: after an ambiguous failure the
   * retry first looks for a model of this name from this run, so a retry never makes a second one.
   */
  async createLoggedModel(request: CreateLoggedModelRequest): Promise<LoggedModel> {
    const r = parse(CreateLoggedModelRequestSchema, request, 'createLoggedModel');
    if (r.name !== undefined) validateLoggedModelName(r.name);
    const params = normalizeLoggedModelValues('param', r.params);
    const tags = normalizeLoggedModelValues('tag', r.tags);
    const out = (await this.call('POST', 'logged-models', {
      json: {
        experiment_id: r.experimentId,
        ...(r.name ? { name: r.name } : {}),
        ...(r.modelType ? { model_type: r.modelType } : {}),
        ...(r.sourceRunId ? { source_run_id: r.sourceRunId } : {}),
        ...(Object.keys(params).length ? { params: wireKeyValues(params) } : {}),
        ...(Object.keys(tags).length ? { tags: wireKeyValues(tags) } : {}),
      },
      recover: async (store) => {
        if (!r.name || !r.sourceRunId) return undefined;
        // one clause: MLflow 3.6's SQL store refuses an AND in a logged-model filter
        const models = await searchAllLoggedModels(store, {
          experimentIds: [r.experimentId],
          filter: `source_run_id = '${r.sourceRunId}'`,
        });
        const made = models.find((m) => m.name === r.name);
        return made ? { done: { model: loggedModelToWire(made) } } : undefined;
      },
    })) as { model: unknown };
    return loggedModelFromWire(out.model);
  }

  async getLoggedModel(modelId: string): Promise<LoggedModel> {
    const out = (await this.call('GET', `logged-models/${encodeURIComponent(modelId)}`)) as { model: unknown };
    return loggedModelFromWire(out.model);
  }

  async finalizeLoggedModel(modelId: string, status: Exclude<LoggedModelStatus, 'PENDING'>): Promise<LoggedModel> {
    const out = (await this.call('PATCH', `logged-models/${encodeURIComponent(modelId)}`, {
      json: { model_id: modelId, status: loggedModelStatusToWire(status) },
    })) as { model: unknown };
    return loggedModelFromWire(out.model);
  }

  async setLoggedModelTags(modelId: string, tags: Record<string, string>): Promise<void> {
    const normalized = normalizeLoggedModelValues('tag', tags);
    if (!Object.keys(normalized).length) return;
    await this.call('PATCH', `logged-models/${encodeURIComponent(modelId)}/tags`, {
      json: { model_id: modelId, tags: wireKeyValues(normalized) },
    });
  }

  /**
   * A param keeps its first value, as a run's: the same value again is sent no more, another is
   * `MlflowParamConflictError` (MLflow's file store would overwrite it, its SQL store refuses even
   * the same value twice, so only params the model does not have yet are sent).
   */
  async logLoggedModelParams(modelId: string, params: Record<string, string>): Promise<void> {
    const normalized = normalizeLoggedModelValues('param', params);
    const have = (await this.getLoggedModel(modelId)).params;
    const fresh: Record<string, string> = {};
    for (const [key, value] of Object.entries(normalized)) {
      if (have[key] === undefined) fresh[key] = value;
      else if (have[key] !== value)
        throw new MlflowParamConflictError(
          `Changing param values is not allowed. Param with key='${key}' was already logged with value='${have[key]}' for logged model ID='${modelId}'. Attempted logging new value '${value}'.`,
          'INVALID_PARAMETER_VALUE',
        );
    }
    if (!Object.keys(fresh).length) return;
    await this.call('POST', `logged-models/${encodeURIComponent(modelId)}/params`, {
      json: { model_id: modelId, params: wireKeyValues(fresh) },
    });
  }

  async searchLoggedModels(request: SearchLoggedModelsRequest): Promise<SearchLoggedModelsResult> {
    const r = parse(SearchLoggedModelsRequestSchema, request, 'searchLoggedModels');
    const out = (await this.call('POST', 'logged-models/search', {
      json: {
        experiment_ids: r.experimentIds,
        ...(r.filter ? { filter: r.filter } : {}),
        ...(r.datasets
          ? {
              datasets: r.datasets.map((d) => ({
                dataset_name: d.datasetName,
                ...(d.datasetDigest ? { dataset_digest: d.datasetDigest } : {}),
              })),
            }
          : {}),
        ...(r.maxResults ? { max_results: r.maxResults } : {}),
        ...(r.orderBy
          ? {
              order_by: r.orderBy.map((o) => ({
                field_name: o.fieldName,
                ascending: o.ascending,
                ...(o.datasetName ? { dataset_name: o.datasetName } : {}),
                ...(o.datasetDigest ? { dataset_digest: o.datasetDigest } : {}),
              })),
            }
          : {}),
        ...(r.pageToken ? { page_token: r.pageToken } : {}),
      },
    })) as { models?: unknown[]; next_page_token?: string };
    return {
      models: (out.models ?? []).map(loggedModelFromWire),
      ...(out.next_page_token ? { nextPageToken: out.next_page_token } : {}),
    };
  }

  /** Links logged models to the run as its outputs; those it already has are not sent again (MLflow's SQL store refuses a repeat). */
  async logOutputs(runId: string, outputs: ModelOutput[]): Promise<void> {
    const parsed = outputs.map((o) => parse(ModelOutputSchema, o, 'logOutputs'));
    const missing = async (store: RestTrackingStore) => {
      const have = new Set((await store.getRun(runId)).outputs.modelOutputs.map((o) => o.modelId));
      return parsed.filter((o) => !have.has(o.modelId));
    };
    const models = await missing(this);
    if (!models.length) return;
    const wire = (list: ModelOutput[]) => ({
      run_id: runId,
      models: list.map((o) => ({ model_id: o.modelId, step: o.step })),
    });
    await this.call('POST', 'runs/outputs', {
      json: wire(models),
      recover: async (store) => {
        const left = await missing(store);
        return left.length ? { json: wire(left) } : { done: {} };
      },
    });
  }

  /** Where a logged model's artifacts are served: the proxy path for mlflow-artifacts URIs, else none. */
  private async modelArtifactRoot(modelId: string): Promise<string | undefined> {
    return proxyRoot((await this.getLoggedModel(modelId)).artifactUri);
  }

  async logLoggedModelArtifact(modelId: string, path: string, content: Uint8Array | string): Promise<void> {
    const root = await this.modelArtifactRoot(modelId);
    if (root === undefined)
      throw RestTrackingStore.notProxied(`logged model ${modelId}`, (await this.getLoggedModel(modelId)).artifactUri);
    await this.artifacts.upload(root, path, content);
  }

  async listLoggedModelArtifacts(modelId: string, path = ''): Promise<ArtifactInfo[]> {
    const rel = relativeArtifactPath(path);
    const root = await this.modelArtifactRoot(modelId);
    if (root !== undefined) return this.artifacts.list(root, rel);
    // a store whose artifacts the server reads itself (a local folder): its own listing
    const out = (await this.call('GET', `logged-models/${encodeURIComponent(modelId)}/artifacts/directories`, {
      query: rel ? { artifact_directory_path: rel } : {},
    })) as { files?: unknown[] };
    return (out.files ?? []).map((f) => artifactFromWire(f, rel)).sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  async downloadLoggedModelArtifact(modelId: string, path: string): Promise<Buffer> {
    const rel = relativeArtifactPath(path);
    const root = await this.modelArtifactRoot(modelId);
    if (root !== undefined) return this.artifacts.download(root, rel);
    // MLflow serves it on the UI's prefix only (mlflow/server/__init__.py)
    return (await this.transport.call(
      'GET',
      `/ajax-api/2.0/mlflow/logged-models/${encodeURIComponent(modelId)}/artifacts/files`,
      {
        query: { artifact_file_path: rel },
        raw: true,
        artifactDownload: true,
      },
    )) as Buffer;
  }

  /** Closes the connections when the store made its transport; a shared one is its owner's to close. */
  async close(): Promise<void> {
    if (this.ownsTransport) await this.transport.close();
  }
}
