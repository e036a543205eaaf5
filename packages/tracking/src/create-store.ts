/**
 * The store a run logs to: MLflow's REST API when a tracking URI is given (or
 * `MLFLOW_TRACKING_URI` is set), else the local file store in `./mlruns`, which
 * `mlflow ui --backend-store-uri ./mlruns` opens.
 */
import { fileURLToPath } from 'node:url';
import { FileTrackingStore } from './file-store';
import { RestTrackingStore, type RestTrackingStoreOptions } from './rest-store';
import { SpoolingTrackingStore } from './spooling-store';
import type { TrackingStore } from './tracking-store';

export const DEFAULT_LOCAL_STORE = 'mlruns';

export interface CreateTrackingStoreOptions {
  uri?: string;
  localDir?: string;
  rest?: Omit<RestTrackingStoreOptions, 'uri'>;
  /** With a REST URI: spool undeliverable writes here and replay them when the server is back. */
  spoolPath?: string;
  onEvent?: (line: string) => void;
}

export function createTrackingStore(options: CreateTrackingStoreOptions = {}): TrackingStore {
  const uri = options.uri ?? process.env.MLFLOW_TRACKING_URI;
  if (uri && /^https?:\/\//.test(uri)) {
    if (!options.spoolPath) return new RestTrackingStore({ uri, ...options.rest });
    // few direct retries: an unreachable server should spool quickly and let training go on
    const rest = new RestTrackingStore({ uri, retry: { attempts: 2, baseDelayMs: 200 }, connectTimeoutMs: 2_000, requestTimeoutMs: 20_000, ...options.rest });
    return new SpoolingTrackingStore(rest, options.spoolPath, { onEvent: options.onEvent });
  }
  if (uri && uri.startsWith('file:')) return new FileTrackingStore(fileURLToPath(uri));
  if (uri) return new FileTrackingStore(uri);
  return new FileTrackingStore(options.localDir ?? DEFAULT_LOCAL_STORE);
}
