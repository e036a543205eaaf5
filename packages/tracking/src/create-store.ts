/**
 * The store a run logs to, chosen as MLflow's own client chooses it:
 *
 * - an `http://` or `https://` tracking URI (the `uri` option, else `MLFLOW_TRACKING_URI`) →
 *   `RestTrackingStore` (wrapped in a `SpoolingTrackingStore` when `spoolPath` is given);
 * - a `file:` URI or a plain path → `FileTrackingStore` in that folder;
 * - nothing set → `FileTrackingStore` in `localDir` (default `./mlruns`), which
 *   `mlflow ui --backend-store-uri ./mlruns` opens (MLflow 3.13+: with `MLFLOW_ALLOW_FILE_STORE=true`).
 *
 * With a spool, a request gets `SPOOLING_DEADLINE_MS` (15 s, `rest.deadlineMs` changes it) before
 * its write goes to the spool; credentials and TLS come from `env` (`MLFLOW_TRACKING_USERNAME`, …).
 *
 * Other schemes (sqlite:, postgresql:, databricks) are the server's business: run
 * `mlflow server --backend-store-uri <that URI>` and point the URI at the server.
 *
 * @example
 * ```ts
 * const store = createTrackingStore();                                   // $MLFLOW_TRACKING_URI, else ./mlruns
 * const remote = createTrackingStore({ uri: 'http://127.0.0.1:5000', spoolPath: '.cache/spool/sweep.jsonl' });
 * ```
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { MlflowInvalidParameterError } from './errors';
import { FileTrackingStore } from './file-store';
import { RestTrackingStore, RestTrackingStoreOptionsSchema } from './rest-store';
import { SpoolingTrackingStore } from './spooling-store';
import type { TrackingStore } from './tracking-store';

export const DEFAULT_LOCAL_STORE = 'mlruns';
/** With a spool: the longest a tracking request may take before its write is spooled (training waits no longer). */
export const SPOOLING_DEADLINE_MS = 15_000;

export const CreateTrackingStoreOptionsSchema = z.strictObject({
  /** Tracking URI; default `MLFLOW_TRACKING_URI`. */
  uri: z.string().optional(),
  /** The local store when no URI is set; default `./mlruns`. */
  localDir: z.string().optional(),
  /** REST client options (timeouts, retries) for an http(s) URI. */
  rest: RestTrackingStoreOptionsSchema.omit({ uri: true }).partial().optional(),
  /** With an http(s) URI: spool undeliverable writes here and replay them when the server is back. */
  spoolPath: z.string().optional(),
  /** Lines for the user from the spool (spooling started, runs queued, entries refused). */
  onEvent: z.custom<(line: string) => void>((v) => typeof v === 'function', 'expected a function').optional(),
  /** Environment to read `MLFLOW_TRACKING_URI` and the credentials (`MLFLOW_TRACKING_USERNAME`, …) from; default `process.env`. */
  env: z
    .custom<Record<string, string | undefined>>((v) => typeof v === 'object' && v !== null, 'expected an object')
    .optional(),
});
export type CreateTrackingStoreOptions = z.input<typeof CreateTrackingStoreOptionsSchema>;

export function createTrackingStore(options: CreateTrackingStoreOptions = {}): TrackingStore {
  const parsed = CreateTrackingStoreOptionsSchema.safeParse(options);
  if (!parsed.success)
    throw new MlflowInvalidParameterError(
      `createTrackingStore options: ${z.prettifyError(parsed.error)}`,
      'INVALID_PARAMETER_VALUE',
    );
  const o = parsed.data;
  const uri = (o.uri ?? (o.env ?? process.env).MLFLOW_TRACKING_URI)?.trim() || undefined;
  if (!uri) return new FileTrackingStore(o.localDir ?? DEFAULT_LOCAL_STORE);
  if (/^https?:\/\//i.test(uri)) {
    const env = o.env ?? process.env;
    // the caller's own rest options, not the parsed ones (which would carry every default)
    if (!o.spoolPath) return new RestTrackingStore({ env, ...options.rest, uri });
    // few direct retries and a short deadline: an unreachable or silent server should spool
    // quickly and let training go on
    const rest = new RestTrackingStore({
      retry: { attempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 },
      connectTimeoutMs: 2_000,
      requestTimeoutMs: SPOOLING_DEADLINE_MS,
      deadlineMs: SPOOLING_DEADLINE_MS,
      env,
      ...options.rest,
      uri,
    });
    return new SpoolingTrackingStore(rest, o.spoolPath, { onEvent: o.onEvent });
  }
  if (/^file:\/\//i.test(uri)) return new FileTrackingStore(fileURLToPath(uri));
  if (/^file:/i.test(uri)) return new FileTrackingStore(resolve(uri.slice('file:'.length)));
  if (/^[a-z][\w+.-]*:/i.test(uri) && !/^[a-z]:[\\/]/i.test(uri)) {
    throw new MlflowInvalidParameterError(
      `tracking URI '${uri}': this client speaks http(s) to an MLflow server or writes a local file store; for '${uri.split(':')[0]}', run \`mlflow server --backend-store-uri ${uri}\` and set MLFLOW_TRACKING_URI=http://127.0.0.1:5000`,
      'INVALID_PARAMETER_VALUE',
    );
  }
  return new FileTrackingStore(uri);
}
