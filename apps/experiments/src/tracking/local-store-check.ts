/**
 * A local tracking store (`./mlruns`, a path, a `file:` URI) whose folder cannot be created or
 * written is found before any work and named as the tracking store, with what to do — not a bare
 * `ENOENT: mkdir …` after training. A server URI is not checked here (its first request is).
 *
 * @example
 * ```ts
 * await checkLocalTrackingStore(createTrackingStore({ uri }), ', or --no-tracking');
 * ```
 */
import { checkOutputFolder, OutputFolderError } from '@cfa/io';
import type { TrackingStore } from '@cfa/tracking';

/** `alternatives` names what else the command offers (e.g. `, or --no-tracking`). */
export async function checkLocalTrackingStore(store: TrackingStore, alternatives = ''): Promise<void> {
  if (/^https?:/.test(store.location)) return;
  try {
    await checkOutputFolder(store.location, 'the local tracking store');
  } catch (error) {
    if (!(error instanceof OutputFolderError)) throw error;
    throw new Error(
      `${error.message}: MLflow runs are logged there — pass --tracking-uri with a folder you can write or a server${alternatives}`,
    );
  }
}
