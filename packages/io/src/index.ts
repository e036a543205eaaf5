/**
 * @cfa/io — the one place for crash-safe file writes; every package that writes files a reader or
 * a later run depends on (data, the feature cache, the MLflow file store, the spool) uses these.
 *
 * - `writeFileAtomic`: temp file + rename (a reader never sees half a file); `durable` fsyncs
 *   the file before the rename and the folder after it, so a power loss leaves the old or the
 *   new content, never a short file.
 * - `appendLines`: whole-line appends that cut a torn last line first.
 * - `withFileLock`: an O_EXCL lock file for steps that must be serial across processes.
 * - `checkOutputFolder`: whether an output folder can be written, before a run starts (creates nothing).
 *
 * The property-based test harness (a worker under a watchdog and a heap cap) is `@cfa/io/testing`.
 */
export { appendLines, withFileLock, writeFileAtomic } from './atomic-file';
export { OutputFolderError, checkOutputFolder } from './output-folder';
