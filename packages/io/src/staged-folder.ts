/**
 * An output folder whose files appear together or not at all, whatever the command (a training
 * run, a sweep cell, predict): everything is written into a hidden sibling staging folder; when the
 * work has succeeded its files are fsync'd and it is swapped in by two renames — the previous
 * folder aside, the staging folder into place — and the previous one is then removed. An error, a
 * full disk, Ctrl-C or a kill leave the previous complete outputs where they were (the window
 * between the two renames is repaired by the next writer: a missing folder with a `previous`
 * sibling is put back). Reruns never mix two runs' files.
 *
 * One writer at a time: the folder's lock (`.<name>.lock` beside it, `acquireLock`) names the
 * process that holds it, and a second writer fails at once saying so (`waitMs` to wait instead).
 * A folder that holds files this command does not write (`outputs`: the names it writes at the top)
 * is not replaced: `--out ~/` must never delete a home folder. The staging folder is removed on
 * every exit path (`removeOnExit`; one left by a kill -9 is removed by the next writer).
 *
 * @example
 * ```ts
 * await withStagedFolder('runs/demo', async (dir) => writeOutputs(dir), { what: '--out', outputs: ['result.json', 'model'] });
 * ```
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { removeOnExit } from './exit-cleanup';
import { OutputFolderError } from './output-folder';
import { acquireLock, describeLockOwner, LockBusyError, lockOwnerAlive } from './process-lock';
import { WriteError } from './write-error';

export interface StagedFolderOptions {
  /** How the folder is named to the user, e.g. `--out`. */
  what: string;
  /** The names this command writes at the top of the folder; an existing folder holding anything else is not replaced. */
  outputs: readonly string[];
  /** How long to wait for another writer of the same folder (default 0: refuse at once, naming it). */
  waitMs?: number;
  /** Take the folder's lock from a writer that seems alive (its pid reused by another program). */
  breakLock?: boolean;
}

const STAGING = '.staging-';
const PREVIOUS = '.previous-';

const siblingName = (target: string, kind: string) =>
  join(dirname(target), `.${basename(target)}${kind}${process.pid}-${randomBytes(4).toString('hex')}`);

/** The lock of an output folder: beside it, since the folder itself is swapped. */
export function outputFolderLockPath(target: string): string {
  return join(dirname(resolve(target)), `.${basename(resolve(target))}.lock`);
}

/**
 * Refuses (before any work) a folder that exists and holds entries the command does not write. An
 * empty folder, a missing one and a previous output of the same command are fine.
 */
export async function checkReplaceable(target: string, options: Pick<StagedFolderOptions, 'what' | 'outputs'>) {
  const entries = await readdir(target).catch(() => [] as string[]);
  const foreign = entries.filter((e) => !options.outputs.includes(e));
  if (foreign.length)
    throw new OutputFolderError(
      target,
      `${options.what} ${target}: holds ${foreign
        .slice(0, 3)
        .map((f) => `'${f}'`)
        .join(
          ', ',
        )}${foreign.length > 3 ? ` and ${foreign.length - 3} more` : ''}, which this command does not write; its outputs replace the whole folder, so choose a new or empty folder (or move those out)`,
    );
}

/** The pid in a staging or previous sibling's name. */
function pidOf(name: string, kind: string): number | undefined {
  const m = new RegExp(`${kind.replace('.', '\\.')}(\\d+)-[0-9a-f]+$`).exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Puts back a folder lost between the two renames of a killed swap, and removes dead writers' staging folders. */
async function repair(target: string): Promise<void> {
  const parent = dirname(target);
  const prefix = `.${basename(target)}`;
  const siblings = (await readdir(parent).catch(() => [] as string[])).filter((n) => n.startsWith(prefix));
  const exists = await stat(target).then(
    () => true,
    () => false,
  );
  for (const name of siblings) {
    const rest = name.slice(prefix.length);
    if (rest.startsWith(PREVIOUS)) {
      if (!exists) await rename(join(parent, name), target);
      else await rm(join(parent, name), { recursive: true, force: true });
    } else if (rest.startsWith(STAGING)) {
      const pid = pidOf(rest, STAGING);
      if (pid !== undefined && pid !== process.pid && !(await lockOwnerAlive({ pid })))
        await rm(join(parent, name), { recursive: true, force: true });
    }
  }
}

/** fsync of every file and folder under `dir`, so the swap never publishes files a power loss could empty. */
async function syncTree(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) await syncTree(join(dir, e.name));
    else if (e.isFile()) await syncPath(join(dir, e.name));
  }
  await syncPath(dir);
}

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } catch {
    // some file systems refuse fsync on a folder
  } finally {
    await handle.close();
  }
}

/** A run's outputs being written: `path` is the staging folder; `commit` swaps it in, `discard` drops it. */
export interface StagedFolder {
  readonly target: string;
  /** Where the outputs are written until the commit. */
  readonly path: string;
  /** fsyncs the staged files and swaps them in for the target (the previous folder removed after); releases the lock. */
  commit(): Promise<void>;
  /** Removes the staging folder and releases the lock; the target stays as it was. Safe after `commit`. */
  discard(): Promise<void>;
  /** `error`'s message with the staging folder's paths written as the target's (what the user named). */
  explain(error: unknown): string;
}

/**
 * Takes the folder's lock, repairs what a killed writer left, checks the folder may be replaced,
 * and makes a fresh staging folder — all before the work, so a second writer or a folder of
 * someone else's files is found in a moment, not after training. Call `commit` when the outputs
 * are complete, `discard` in a `finally`.
 */
export async function openStagedFolder(target: string, options: StagedFolderOptions): Promise<StagedFolder> {
  await mkdir(dirname(resolve(target)), { recursive: true }).catch((error: unknown) => {
    throw WriteError.of(target, error);
  });
  const lock = await acquireLock(outputFolderLockPath(target), {
    waitMs: options.waitMs ?? 0,
    breakLock: options.breakLock,
  }).catch((error: unknown) => {
    if (!(error instanceof LockBusyError)) throw error;
    throw new OutputFolderError(
      target,
      `${options.what} ${target}: another run is writing this folder — ${describeLockOwner(error.owner)} holds ${error.lockPath}; wait for it to end or choose another folder`,
    );
  });
  const staging = siblingName(target, STAGING);
  const forget = removeOnExit(staging);
  let done = false;
  const discard = async () => {
    if (done) return;
    done = true;
    await rm(staging, { recursive: true, force: true });
    forget();
    await lock.release();
  };
  try {
    await repair(target);
    await checkReplaceable(target, options);
    await mkdir(staging).catch((error: unknown) => {
      throw WriteError.of(target, error);
    });
  } catch (error) {
    await discard();
    throw error;
  }
  return {
    target,
    path: staging,
    discard,
    explain: (error) => (error instanceof Error ? error.message : String(error)).replaceAll(staging, target),
    commit: async () => {
      if (done) throw new Error(`${target}: the staged outputs were already committed or discarded`);
      try {
        await syncTree(staging).catch((error: unknown) => {
          throw WriteError.of(target, error);
        });
        await swapIn(staging, target);
      } finally {
        await discard();
      }
    },
  };
}

/** The staging folder in place of the target: the target aside, the staging folder in, the old one removed. */
async function swapIn(staging: string, target: string): Promise<void> {
  const previous = siblingName(target, PREVIOUS);
  const exists = await stat(target).then(
    () => true,
    () => false,
  );
  if (exists) await rename(target, previous);
  await rename(staging, target).catch(async (error: unknown) => {
    if (exists) await rename(previous, target);
    throw WriteError.of(target, error);
  });
  await syncPath(dirname(resolve(target))).catch(() => undefined);
  if (exists) await rm(previous, { recursive: true, force: true });
}

/** Runs `fill` on a fresh staging folder and swaps it in for `target` when it succeeds (see the file header). */
export async function withStagedFolder<T>(
  target: string,
  fill: (staging: string) => Promise<T>,
  options: StagedFolderOptions,
): Promise<T> {
  const folder = await openStagedFolder(target, options);
  try {
    const result = await fill(folder.path);
    await folder.commit();
    return result;
  } finally {
    await folder.discard();
  }
}
