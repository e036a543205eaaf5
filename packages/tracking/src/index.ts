/**
 * @cfa/tracking — MLflow tracking for experiment runs; no tensors and no sweeps here. This entry
 * holds what the other projects use; the test servers are in `@cfa/tracking/testing`.
 *
 * - `TrackingStore`: one interface; `createTrackingStore` picks REST (`MLFLOW_TRACKING_URI`) or the
 *   local file store (`./mlruns`); `searchAllRuns` follows page tokens.
 * - `RestTrackingStore`: MLflow REST on undici — credentials and TLS from `MLFLOW_TRACKING_*`
 *   (401/403 are `MlflowUnauthenticatedError` / `MlflowPermissionDeniedError`, never outages), a
 *   deadline on every call, retries with jittered backoff, no duplicates from retries.
 * - `FileTrackingStore`: MLflow's on-disk layout, written atomically, safe for concurrent processes;
 *   a damaged file is `MlflowCorruptStoreError` naming it.
 * - `SpoolingTrackingStore`, `replaySpool`: nothing lost, nothing twice, while the server is away;
 *   writes lost in a damaged spool are named, and their runs tagged `SPOOL_LOST_WRITES_TAG`, never FINISHED.
 * - `copyStore`: a local store into any server, idempotently (`sync-runs --from-store`).
 * - `redactUri`, `redactUrls`, `trackingCredentials`, `TRACKING_ENV`: credentials as MLflow reads
 *   them, and URIs without their user info for logs, tags and job data.
 * - Entities: zod schemas with their types (`RunSchema` / `Run`, `DatasetInputSchema` / `DatasetInput`, …).
 */
export type { TrackingStore } from './tracking-store';
export { searchAllRuns } from './tracking-store';
export { DEFAULT_LOCAL_STORE, SPOOLING_DEADLINE_MS, createTrackingStore } from './create-store';
export type { CreateTrackingStoreOptions } from './create-store';
export { RestTrackingStore } from './rest-store';
export type { RestTrackingStoreOptions } from './rest-store';
export { FileTrackingStore } from './file-store';
export { SPOOL_LOST_WRITES_TAG, SpoolingTrackingStore, replaySpool } from './spooling-store';
export type { SpoolStats } from './spooling-store';
export { COPY_SOURCE_TAG, copyStore } from './copy-store';
export type { CopyStoreReport } from './copy-store';
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
export { DatasetInputSchema, MLFLOW_TAGS, RunSchema } from './entities';
export type { DatasetInput, DatasetInputRequest, Experiment, Metric, Run, RunStatus } from './entities';
export {
  ModelRegistryClient,
  ModelRegistryOptionsSchema,
  ModelVersionSchema,
  RegisteredModelSchema,
  registerModelVersion,
} from './model-registry';
