/**
 * @cfa/tracking — MLflow tracking for experiment runs; no tensors and no sweeps here.
 *
 * - `TrackingStore`: one interface; `createTrackingStore` picks REST (`MLFLOW_TRACKING_URI`) or the
 *   local file store (`./mlruns`, opened with `mlflow ui --backend-store-uri ./mlruns`);
 *   `searchAllRuns` follows page tokens, `findRunCreatedBy` finds the run a create made.
 * - `RestTrackingStore`: MLflow REST on undici — timeouts, retries with jittered backoff, typed
 *   errors, log-batch chunked to the server's limits, the artifact proxy, no duplicates from retries.
 * - `FileTrackingStore`: MLflow's on-disk layout and bytes (`dumpMetaYaml`, `formatPythonFloat`),
 *   written atomically, safe for concurrent processes.
 * - `SpoolingTrackingStore`, `replaySpool`, `SpoolJournal`: nothing lost, nothing twice, while the
 *   server is away.
 * - `startFakeMlflowServer`: an in-process MLflow 3.6 for fast tests, with fault injection.
 * - `startRealMlflow`, `findServeScript`, `freePort`: the real server for tests that need it.
 * - Errors: `MlflowError` and its typed subclasses; limits and validation: `LIMITS`, `validateKey`,
 *   `normalizeBatch`, `chunkBatch`.
 * - Entities: zod schemas with their types (`MetricSchema` / `Metric`, …).
 */
export type { TrackingStore } from './tracking-store';
export { findRunCreatedBy, searchAllRuns } from './tracking-store';
export { CreateTrackingStoreOptionsSchema, DEFAULT_LOCAL_STORE, createTrackingStore } from './create-store';
export type { CreateTrackingStoreOptions } from './create-store';
export { RestTrackingStore, RestTrackingStoreOptionsSchema } from './rest-store';
export type { RestTrackingStoreOptions, RetryEvent } from './rest-store';
export { RetryPolicySchema, backoffDelayMs, classifyNetworkError, retryAfterMs } from './retry-policy';
export type { NetworkFailure, RetryPolicy } from './retry-policy';
export { FileTrackingStore, FileTrackingStoreOptionsSchema } from './file-store';
export type { FileTrackingStoreOptions } from './file-store';
export { dumpMetaYaml, parseMetaYaml } from './meta-yaml';
export type { MetaValue } from './meta-yaml';
export { decodeMetricValue, encodeMetricValue, formatPythonFloat, parsePythonFloat } from './metric-value';
export {
  SpoolingTrackingStore,
  SpoolingTrackingStoreOptionsSchema,
  isDeliveryFailure,
  isPendingRunId,
  replaySpool,
} from './spooling-store';
export type { SpoolStats, SpoolingTrackingStoreOptions } from './spooling-store';
export { SpoolEntrySchema, SpoolJournal } from './spool-journal';
export type { SpoolEntry } from './spool-journal';
export { FakeMlflowServerOptionsSchema, startFakeMlflowServer } from './fake-mlflow-server';
export type { FakeMlflowServer, FakeMlflowServerOptions, FakeRequestRecord, FaultOptions } from './fake-mlflow-server';
export {
  MlflowError,
  MlflowInvalidKeyError,
  MlflowInvalidParameterError,
  MlflowParamConflictError,
  MlflowRateLimitError,
  MlflowResourceAlreadyExistsError,
  MlflowResourceNotFoundError,
  MlflowServerError,
  MlflowUnavailableError,
  errorFromResponse,
} from './errors';
export { LIMITS, normalizeBatch, validateExperimentName, validateKey, validateRunId } from './validation';
export { chunkBatch } from './chunk-batch';
export type { LogBatchBody } from './chunk-batch';
export { createPageToken, matchesFilter, paginate, parseFilter, parsePageToken, sortRuns } from './search-filter';
export type { FilterClause } from './search-filter';
export { artifactFromWire, experimentFromWire, runFromWire, runToWire } from './wire-format';
export { findServeScript, freePort, startRealMlflow } from './testing/real-server';
export type { RealServer } from './testing/real-server';
export {
  ArtifactInfoSchema,
  BatchSchema,
  CreateRunRequestSchema,
  ExperimentSchema,
  KeyValueSchema,
  MLFLOW_TAGS,
  MetricSchema,
  MetricValueSchema,
  RUN_STATUSES,
  RUN_STATUS_CODE,
  RunDataSchema,
  RunInfoSchema,
  RunSchema,
  RunStatusSchema,
  SearchRunsRequestSchema,
  SearchRunsResultSchema,
  UpdateRunRequestSchema,
} from './entities';
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
} from './entities';
export {
  ModelRegistryClient,
  ModelRegistryOptionsSchema,
  ModelVersionSchema,
  RegisteredModelSchema,
  registerModelVersion,
} from './model-registry';
