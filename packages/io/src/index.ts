/**
 * @cfa/io — the one place for crash-safe file writes; every package that writes files a reader or
 * a later run depends on (data, the feature cache, the MLflow file store, the spool, run and predict
 * outputs) uses these.
 *
 * - `writeFileAtomic`: temp file + rename (a reader never sees half a file); `durable` fsyncs
 *   the file before the rename and the folder after it, so a power loss leaves the old or the
 *   new content, never a short file. A failure names the target (`WriteError`), never the temp file.
 * - `appendLines`: whole-line appends that cut a torn last line first.
 * - `acquireLock` / `withFileLock`: the one lock file for "one process at a time" (the spool, an
 *   output folder, experiment creation): who holds it (pid, host, start time), a dead holder's lock
 *   taken over, a live one waited for then named (`LockBusyError`), `breakLock` for the rest.
 * - `openStagedFolder` / `withStagedFolder`: an output folder written whole or not at all (staged
 *   beside it, swapped in by renames, under its lock); `checkReplaceable`, `outputFolderLockPath`.
 * - `removeOnExit`: temp paths removed on every exit path, signals included.
 * - `checkOutputFolder`: whether an output folder can be written, before a run starts (creates
 *   nothing); `checkOutputApart`: an output folder must not be, hold or lie inside what is read.
 *
 * The property-based test harness (a worker under a watchdog and a heap cap) is `@cfa/io/testing`.
 */
export { appendLines, writeFileAtomic } from './atomic-file';
export { pathsRemovedOnExit, removeOnExit } from './exit-cleanup';
export { OutputFolderError, checkOutputApart, checkOutputFolder } from './output-folder';
export {
  LockBusyError,
  LockOwnerSchema,
  acquireLock,
  describeLockOwner,
  lockOwner,
  lockOwnerAlive,
  processStartTime,
  withFileLock,
} from './process-lock';
export type { HeldLock, LockOptions, LockOwner } from './process-lock';
export { checkReplaceable, openStagedFolder, outputFolderLockPath, withStagedFolder } from './staged-folder';
export type { StagedFolder, StagedFolderOptions } from './staged-folder';
export { WriteError, isNoSpaceError } from './write-error';
