/**
 * @cfa/tracking — MLflow tracking for experiment runs, no tensors and no sweeps here.
 *
 * - `TrackingStore`: one interface; `createTrackingStore` picks REST (`MLFLOW_TRACKING_URI`) or the
 *   local file store (`./mlruns`, opened with `mlflow ui --backend-store-uri ./mlruns`).
 * - `RestTrackingStore`: MLflow REST on undici — timeouts, retries with jittered backoff, typed
 *   errors, log-batch chunked to the server's limits, the artifact proxy.
 * - `FileTrackingStore`: MLflow's on-disk layout, written atomically.
 * - `SpoolingTrackingStore`, `replaySpool`: nothing lost while the server is away.
 * - `startFakeMlflowServer`: an in-process MLflow for fast tests.
 * - Errors: `MlflowError` and its typed subclasses.
 */
export type { TrackingStore } from './tracking-store';
export { logMetric, logParams, searchAllRuns } from './tracking-store';
export { DEFAULT_LOCAL_STORE, createTrackingStore } from './create-store';
export type { CreateTrackingStoreOptions } from './create-store';
export { RestTrackingStore, decodeMetricValue, encodeMetricValue } from './rest-store';
export type { RestTrackingStoreOptions, RetryPolicy } from './rest-store';
export { FileTrackingStore, formatMetricValue } from './file-store';
export type { FileTrackingStoreOptions } from './file-store';
export { SpoolingTrackingStore, isDeliveryFailure, replaySpool } from './spooling-store';
export type { SpoolStats } from './spooling-store';
export { startFakeMlflowServer } from './fake-mlflow-server';
export type { FakeMlflowServer, FakeRequestRecord } from './fake-mlflow-server';
export {
  MlflowError,
  MlflowInvalidParameterError,
  MlflowParamConflictError,
  MlflowRateLimitError,
  MlflowResourceAlreadyExistsError,
  MlflowResourceNotFoundError,
  MlflowServerError,
  MlflowUnavailableError,
} from './errors';
export { LIMITS, chunkBatch, normalizeBatch, validateKey } from './validation';
export { matchesFilter, parseFilter, sortRuns } from './search-filter';
export { findServeScript, freePort, startRealMlflow } from './testing/real-server';
export type { RealServer } from './testing/real-server';
export { MLFLOW_TAGS, RUN_STATUSES, RUN_STATUS_CODE } from './types';
export type {
  ArtifactInfo,
  Batch,
  CreateRunRequest,
  Experiment,
  KeyValue,
  Metric,
  Run,
  RunData,
  RunInfo,
  RunStatus,
  SearchRunsRequest,
  SearchRunsResult,
  UpdateRunRequest,
} from './types';
