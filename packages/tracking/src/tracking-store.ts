/**
 * One interface over MLflow tracking: the REST client (`RestTrackingStore`), the local file store
 * that `mlflow ui` reads (`FileTrackingStore`) and the outage spool around the REST client
 * (`SpoolingTrackingStore`). Sweeps and tests use only this; `trackingContract` (testing/) checks
 * that every implementation behaves the same. Helpers that work on any store sit beside it.
 *
 * @example
 * ```ts
 * const store: TrackingStore = createTrackingStore();      // MLFLOW_TRACKING_URI, else ./mlruns
 * const experimentId = await store.getOrCreateExperiment('ablation-loss');
 * const parent = await store.createRun({ experimentId, runName: 'sweep' });
 * const cell = await store.createRun({ experimentId, runName: 'weave att', parentRunId: parent.info.runId });
 * await store.logParam(cell.info.runId, 'loss.terms', 'att');
 * await store.logMetric(cell.info.runId, 'train/loss', 0.42, 0);
 * await store.updateRun({ runId: cell.info.runId, status: 'FINISHED', endTime: Date.now() });
 * const children = await searchAllRuns(store, { experimentIds: [experimentId], filter: `tags.\`mlflow.parentRunId\` = '${parent.info.runId}'` });
 * ```
 */
import type {
  ArtifactInfo,
  Batch,
  CreateLoggedModelRequest,
  CreateRunRequest,
  DatasetInputRequest,
  Experiment,
  LoggedModel,
  LoggedModelStatus,
  Metric,
  ModelOutput,
  Run,
  SearchLoggedModelsRequest,
  SearchLoggedModelsResult,
  SearchRunsRequest,
  SearchRunsResult,
  UpdateRunRequest,
} from './entities';
import { MLFLOW_TAGS } from './entities';
import { LIMITS } from './validation';

export interface TrackingStore {
  /** Where it writes, for logs: a URL or a folder. */
  readonly location: string;
  /** The experiment with this name (active or deleted, as MLflow answers), or undefined. */
  getExperimentByName(name: string): Promise<Experiment | undefined>;
  /** Creates an experiment; `MlflowResourceAlreadyExistsError` when the name is taken. */
  createExperiment(name: string, tags?: Record<string, string>): Promise<string>;
  /** The id of the experiment with this name, created if needed — also when another process wins the race. */
  getOrCreateExperiment(name: string, tags?: Record<string, string>): Promise<string>;
  /** The experiment with this id (active or deleted); `MlflowResourceNotFoundError` when there is none. */
  getExperiment(experimentId: string): Promise<Experiment>;
  createRun(request: CreateRunRequest): Promise<Run>;
  updateRun(request: UpdateRunRequest): Promise<void>;
  /** Info, params, tags and the latest value of each metric. */
  getRun(runId: string): Promise<Run>;
  /** One page; `searchAllRuns` follows the page tokens. Only active runs. */
  searchRuns(request: SearchRunsRequest): Promise<SearchRunsResult>;
  /** Logs everything, in as many requests as MLflow's limits need; params first, order kept. */
  logBatch(runId: string, batch: Batch): Promise<void>;
  /** `logBatch` of one metric; timestamp defaults to now, step to 0. */
  logMetric(runId: string, key: string, value: number, step?: number, timestamp?: number): Promise<void>;
  /** `logBatch` of one param; re-logging the same value is fine, another value is `MlflowParamConflictError`. */
  logParam(runId: string, key: string, value: string | number | boolean): Promise<void>;
  setTag(runId: string, key: string, value: string): Promise<void>;
  /**
   * Records datasets the run read (`runs/log-inputs`); the UI's Datasets column. Logging the same
   * dataset (name and digest) to the same run again adds nothing.
   */
  logInputs(runId: string, datasets: DatasetInputRequest[]): Promise<void>;
  /** Every value of one metric, in logging order; [] for a key never logged. */
  getMetricHistory(runId: string, key: string): Promise<Metric[]>;
  logArtifact(runId: string, artifactPath: string, content: Uint8Array | string): Promise<void>;
  /** The entries directly under `path` (default: the run's artifact root), paths relative to that root. */
  listArtifacts(runId: string, path?: string): Promise<ArtifactInfo[]>;
  /** `MlflowResourceNotFoundError` when there is no such file. */
  downloadArtifact(runId: string, path: string): Promise<Buffer>;

  // MLflow 3's logged models: the UI's Models tab. Metrics reach a model through `logBatch` with
  // `modelId` on the metric (and the dataset it was measured on).
  /** A new logged model, PENDING until `finalizeLoggedModel`; a name is generated when none is given. */
  createLoggedModel(request: CreateLoggedModelRequest): Promise<LoggedModel>;
  /** `MlflowResourceNotFoundError` when there is no such model. */
  getLoggedModel(modelId: string): Promise<LoggedModel>;
  /** READY once its artifacts are complete, UPLOAD_FAILED when they could not be. */
  finalizeLoggedModel(modelId: string, status: Exclude<LoggedModelStatus, 'PENDING'>): Promise<LoggedModel>;
  setLoggedModelTags(modelId: string, tags: Record<string, string>): Promise<void>;
  /** A param keeps its first value: the same again is fine, another is `MlflowParamConflictError`. */
  logLoggedModelParams(modelId: string, params: Record<string, string>): Promise<void>;
  /** One page, newest first unless `orderBy` says otherwise; `searchAllLoggedModels` follows the pages. */
  searchLoggedModels(request: SearchLoggedModelsRequest): Promise<SearchLoggedModelsResult>;
  /** Links logged models to the run that produced them (`runs/outputs`); a link the run has is kept as it is. */
  logOutputs(runId: string, outputs: ModelOutput[]): Promise<void>;
  logLoggedModelArtifact(modelId: string, path: string, content: Uint8Array | string): Promise<void>;
  listLoggedModelArtifacts(modelId: string, path?: string): Promise<ArtifactInfo[]>;
  downloadLoggedModelArtifact(modelId: string, path: string): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * The one-entry conveniences, written once: each is a `logBatch` of a single metric, param or tag,
 * so every store keeps MLflow's batch semantics (validation, limits, spooling) in one method.
 */
export abstract class BatchLoggingStore {
  abstract logBatch(runId: string, batch: Batch): Promise<void>;

  logMetric(runId: string, key: string, value: number, step = 0, timestamp = Date.now()): Promise<void> {
    return this.logBatch(runId, { metrics: [{ key, value, step, timestamp }] });
  }

  logParam(runId: string, key: string, value: string | number | boolean): Promise<void> {
    return this.logBatch(runId, { params: [{ key, value: String(value) }] });
  }

  setTag(runId: string, key: string, value: string): Promise<void> {
    return this.logBatch(runId, { tags: [{ key, value }] });
  }
}

/** Every item of a paged search: pages fetched until the server gives no next token. */
export async function allPages<T>(
  page: (pageToken: string | undefined) => Promise<{ items: T[]; nextPageToken?: string }>,
): Promise<T[]> {
  const items: T[] = [];
  let pageToken: string | undefined;
  do {
    const next = await page(pageToken);
    items.push(...next.items);
    pageToken = next.nextPageToken || undefined;
  } while (pageToken);
  return items;
}

/** Every run matching the request, following page tokens. */
export function searchAllRuns(store: TrackingStore, request: Omit<SearchRunsRequest, 'pageToken'>): Promise<Run[]> {
  return allPages(async (pageToken) => {
    const page = await store.searchRuns({ ...request, maxResults: request.maxResults ?? 1000, pageToken });
    return { items: page.runs, nextPageToken: page.nextPageToken };
  });
}

/** Every logged model matching the request, following page tokens. */
export function searchAllLoggedModels(
  store: TrackingStore,
  request: Omit<SearchLoggedModelsRequest, 'pageToken'>,
): Promise<LoggedModel[]> {
  return allPages(async (pageToken) => {
    const page = await store.searchLoggedModels({ ...request, pageToken });
    return { items: page.models, nextPageToken: page.nextPageToken };
  });
}

/**
 * The run that a `createRun` request made, if the server has it: same experiment, start time, name
 * and parent. Used after a create whose answer was lost (timeout, reset) or that a crash left
 * unacknowledged, so that a retry does not make a second run. Returns undefined when the request
 * cannot be matched safely (no start time or run name, or a name the filter cannot quote).
 */
export async function findRunCreatedBy(store: TrackingStore, request: CreateRunRequest): Promise<Run | undefined> {
  const name = request.runName ?? request.tags?.[MLFLOW_TAGS.runName];
  if (request.startTime === undefined || !name || (name.includes("'") && name.includes('"'))) return undefined;
  const quote = name.includes("'") ? '"' : "'";
  const clauses = [`attributes.start_time = ${request.startTime}`, `attributes.run_name = ${quote}${name}${quote}`];
  const runs = await searchAllRuns(store, { experimentIds: [request.experimentId], filter: clauses.join(' AND ') });
  const parent = request.parentRunId ?? request.tags?.[MLFLOW_TAGS.parentRunId];
  return runs.find(
    (r) =>
      r.data.tags[MLFLOW_TAGS.parentRunId] === parent &&
      Object.entries(request.tags ?? {}).every(([k, v]) => r.data.tags[k] === v.slice(0, LIMITS.tagValueLength)),
  );
}
