/**
 * @cfa/tracking — MLflow tracking for experiment runs; no tensors and no sweeps here. This entry
 * holds what the other projects use; the test servers are in `@cfa/tracking/testing`.
 *
 * - `TrackingStore`: one interface; `createTrackingStore` picks REST (`MLFLOW_TRACKING_URI`) or the
 *   local file store (`./mlruns`); `searchAllRuns` follows page tokens.
 * - `RestTransport`: the one HTTP transport of every client here — credentials and TLS from
 *   `MLFLOW_TRACKING_*` (401/403 are `MlflowUnauthenticatedError` / `MlflowPermissionDeniedError`,
 *   never outages), a deadline on every call, retries with jittered backoff, error mapping.
 * - `RestTrackingStore`: MLflow REST on a transport, no duplicates from retries; logged models.
 * - `ModelRegistryClient`: registered models, versions, tags, aliases, `models:/` URIs resolved and
 *   downloaded — on the same transport.
 * - `FileTrackingStore`: MLflow's on-disk layout, written atomically, safe for concurrent processes;
 *   a damaged file is `MlflowCorruptStoreError` naming it.
 * - `SpoolingTrackingStore`, `replaySpool`: nothing lost, nothing twice, while the server is away;
 *   writes lost in a damaged spool are named, and their runs tagged `SPOOL_LOST_WRITES_TAG`, never FINISHED.
 * - `copyStore`: a local store into any server, idempotently (`sync-runs --from-store`), logged models too.
 * - `startSystemMetrics`: CPU, memory, disk, network and GPU sampled and logged as MLflow's `system/…` metrics.
 * - `redactUri`, `redactUrls`, `trackingCredentials`, `TRACKING_ENV`: credentials as MLflow reads
 *   them, and URIs without their user info for logs, tags and job data.
 * - Entities: zod schemas with their types (`RunSchema` / `Run`, `DatasetInputSchema` / `DatasetInput`, …).
 */
export type { TrackingStore } from './tracking-store';
export { searchAllLoggedModels, searchAllRuns } from './tracking-store';
export { DEFAULT_LOCAL_STORE, SPOOLING_DEADLINE_MS, createTrackingStore } from './create-store';
export type { CreateTrackingStoreOptions } from './create-store';
export { RestTrackingStore } from './rest-store';
export type { RestTrackingStoreOptions } from './rest-store';
export { RestTransport, RestTransportOptionsSchema } from './rest-transport';
export type { RestTransportOptions, RetryEvent } from './rest-transport';
export { ArtifactProxy, proxyRoot } from './artifact-proxy';
export { FileTrackingStore } from './file-store';
export { SPOOL_LOST_WRITES_TAG, SpoolingTrackingStore, replaySpool } from './spooling-store';
export type { SpoolStats } from './spooling-store';
export { localFiles, logModel, runArtifactFiles } from './log-model';
export type { LogModelRequest, ModelFile } from './log-model';
export { COPY_SOURCE_MODEL_TAG, COPY_SOURCE_TAG, copyStore } from './copy-store';
export type { CopyStoreReport } from './copy-store';
export {
  DEFAULT_SYSTEM_METRICS_INTERVAL_MS,
  SYSTEM_METRIC_PREFIX,
  startSystemMetrics,
  systemMetricsEnabled,
} from './system-metrics';
export type { SystemMetricsMonitor, SystemMetricsOptions } from './system-metrics';
export { TRACKING_ENV, redactUri, redactUrls, trackingCredentials } from './credentials';
export type { TrackingCredentials } from './credentials';
export {
  MlflowCorruptStoreError,
  MlflowError,
  MlflowPermissionDeniedError,
  MlflowUnauthenticatedError,
  MlflowUnavailableError,
  isAuthError,
} from './errors';
export { DatasetInputSchema, LoggedModelSchema, MLFLOW_TAGS, RunSchema } from './entities';
export type {
  CreateLoggedModelRequest,
  DatasetInput,
  DatasetInputRequest,
  Experiment,
  LoggedModel,
  LoggedModelStatus,
  Metric,
  ModelOutput,
  Run,
  RunStatus,
  SearchLoggedModelsRequest,
} from './entities';
export {
  ModelRegistryClient,
  ModelVersionSchema,
  RegisteredModelSchema,
  parseModelUri,
  registerModelVersion,
} from './model-registry';
export type { CreateModelVersionRequest, ModelUri, ModelVersion, RegisteredModel } from './model-registry';
