/**
 * One interface over MLflow tracking: the REST client (`RestTrackingStore`) and the local file
 * store that `mlflow ui` reads (`FileTrackingStore`). Sweeps and tests use only this.
 */
import type {
  ArtifactInfo,
  Batch,
  CreateRunRequest,
  Experiment,
  Metric,
  Run,
  SearchRunsRequest,
  SearchRunsResult,
  UpdateRunRequest,
} from './types';

export interface TrackingStore {
  /** Where it writes, for logs: a URL or a folder. */
  readonly location: string;
  getExperimentByName(name: string): Promise<Experiment | undefined>;
  /** Creates the experiment, or returns the id of the existing one (also when another process wins the race). */
  getOrCreateExperiment(name: string, tags?: Record<string, string>): Promise<string>;
  createRun(request: CreateRunRequest): Promise<Run>;
  updateRun(request: UpdateRunRequest): Promise<void>;
  getRun(runId: string): Promise<Run>;
  searchRuns(request: SearchRunsRequest): Promise<SearchRunsResult>;
  /** Logs everything, split into as many requests as the limits need. */
  logBatch(runId: string, batch: Batch): Promise<void>;
  setTag(runId: string, key: string, value: string): Promise<void>;
  getMetricHistory(runId: string, key: string): Promise<Metric[]>;
  logArtifact(runId: string, artifactPath: string, content: Uint8Array | string): Promise<void>;
  listArtifacts(runId: string, path?: string): Promise<ArtifactInfo[]>;
  downloadArtifact(runId: string, path: string): Promise<Buffer>;
  close(): Promise<void>;
}

/** Every run matching the request, following page tokens. */
export async function searchAllRuns(store: TrackingStore, request: Omit<SearchRunsRequest, 'pageToken'>): Promise<Run[]> {
  const runs: Run[] = [];
  let pageToken: string | undefined;
  do {
    const page = await store.searchRuns({ ...request, maxResults: request.maxResults ?? 1000, pageToken });
    runs.push(...page.runs);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return runs;
}

export async function logMetric(store: TrackingStore, runId: string, key: string, value: number, step = 0, timestamp = Date.now()): Promise<void> {
  await store.logBatch(runId, { metrics: [{ key, value, step, timestamp }] });
}

export async function logParams(store: TrackingStore, runId: string, params: Record<string, string | number | boolean>): Promise<void> {
  await store.logBatch(runId, { params: Object.entries(params).map(([key, value]) => ({ key, value: String(value) })) });
}
