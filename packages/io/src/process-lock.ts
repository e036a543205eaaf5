/**
 * The one lock file of the project, for every "one process at a time": a sweep's spool (the
 * tracking package's journal), a run or predict output folder, the creation of an MLflow
 * experiment with a unique name. The file says who holds it — pid, host, the process's start time
 * (Linux: /proc/<pid>/stat field 22, so a pid plus this names one process even after the pid is
 * reused), a random token and since when — and is created with its content in one step (written
 * to a temp file, then hard-linked to the lock path, which fails if the lock exists), so a reader
 * never sees an empty lock.
 *
 * Whether a holder is still there: on this host, its pid is alive, not a zombie, and — where both
 * start times are known — the same process; such a lock is waited for (`waitMs`), then refused with
 * `LockBusyError` naming the holder. A lock whose process is gone is taken over at once. A holder on
 * another host cannot be checked from here: it is honoured, unless the lock is older than `staleMs`
 * (for locks held only for a moment, such as creating an experiment) or `breakLock` says to take it
 * anyway (the user's `--break-lock`, after `onBroken` says whose it was). Older lock files that
 * hold only a pid are read as `{ pid }`.
 *
 * @example
 * ```ts
 * await withFileLock('runs/demo.lock', async () => writeOutputs(), { waitMs: 0 });
 * const held = await acquireLock('.cache/spool/s.jsonl.lock', { shareWithinProcess: true });
 * await held.release();
 * ```
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { z } from 'zod';
import { removeOnExit } from './exit-cleanup';

/** Who holds a lock. Older locks hold only the pid. */
export const LockOwnerSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string().optional(),
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  start: z.string().optional(),
  token: z.string().optional(),
  since: z.string().optional(),
});
export type LockOwner = z.infer<typeof LockOwnerSchema>;

export interface LockOptions {
  /** How long to wait for a live holder to let go before `LockBusyError` (default 5 s; 0: refuse at once). */
  waitMs?: number;
  /** Take the lock even from a holder that seems alive (after `onBroken` is told whose it was). */
  breakLock?: boolean;
  onBroken?: (owner: LockOwner) => void;
  /** A holder on another host (which cannot be checked) is taken over once its lock is this old. Default: never. */
  staleMs?: number;
  /**
   * Another acquisition by this same process counts as held (the spool: one process, one owner).
   * Default: it is waited for like any other holder, so concurrent callers in one process are serial.
   */
  shareWithinProcess?: boolean;
}

export class LockBusyError extends Error {
  constructor(
    readonly lockPath: string,
    readonly owner: LockOwner,
    message = `${lockPath}: held by ${describeLockOwner(owner)}`,
  ) {
    super(message);
    this.name = 'LockBusyError';
  }
}

export interface HeldLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** Removes the lock file, if it is still this holder's (not broken and taken by another). */
  release(): Promise<void>;
}

/** /proc/<pid>/stat split after the command name, which may hold spaces and parentheses. */
async function procStat(pid: number): Promise<string[] | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return text?.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** A process's start time (clock ticks since boot), where /proc tells; undefined elsewhere. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  return (await procStat(pid))?.[19];
}

/** Whether a process is still running: it exists and, where /proc tells, is not a zombie (killed, not yet reaped). */
async function processAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const state = (await procStat(pid))?.[0];
  return state !== 'Z' && state !== 'X';
}

function parseOwner(text: string): LockOwner | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) > 0 ? { pid: Number(trimmed) } : undefined;
  try {
    const parsed = LockOwnerSchema.safeParse(JSON.parse(trimmed));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Who holds the lock at `path` now (undefined: none, or an unreadable file). */
export async function lockOwner(path: string): Promise<LockOwner | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseOwner(text);
}

/** e.g. `process 4242 on build-3 (since 2025-01-01T10:00:00.000Z)`. */
export function describeLockOwner(owner: LockOwner): string {
  return `process ${owner.pid}${owner.host ? ` on ${owner.host}` : ''}${owner.since ? ` (since ${owner.since})` : ''}`;
}

/**
 * Whether the holder may still be at work: same host, pid alive and not a zombie, and — when both
 * start times are known — the same process, not a new one that got the pid. Another host: yes.
 */
export async function lockOwnerAlive(owner: LockOwner): Promise<boolean> {
  if (owner.host && owner.host !== hostname()) return true;
  if (!(await processAlive(owner.pid))) return false;
  if (owner.start === undefined) return true;
  const now = await processStartTime(owner.pid);
  return now === undefined || now === owner.start;
}

const sameProcess = (owner: LockOwner) => owner.pid === process.pid && (!owner.host || owner.host === hostname());

/** Creates the lock file with its content in one step; false when it exists. */
async function create(path: string, owner: LockOwner): Promise<boolean> {
  const tmp = `${path}.${owner.token}.tmp`;
  const forget = removeOnExit(tmp);
  try {
    await writeFile(tmp, `${JSON.stringify(owner)}\n`);
    await link(tmp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(tmp, { force: true });
    forget();
  }
}

/** Removes the lock at `path` if it still says what was judged (another process may have taken it over meanwhile). */
async function removeIfUnchanged(path: string, text: string): Promise<void> {
  if ((await readFile(path, 'utf8').catch(() => undefined)) === text) await rm(path, { force: true });
}

/** Takes the lock at `path` (see the file header), or throws `LockBusyError` once `waitMs` has passed. */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<HeldLock> {
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + (options.waitMs ?? 5_000);
  const me: LockOwner = {
    pid: process.pid,
    host: hostname(),
    start: await processStartTime(process.pid),
    token: randomUUID(),
    since: new Date().toISOString(),
  };
  for (let round = 0; ; round++) {
    if (await create(path, me)) return held(path, me);
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) continue; // released between the two calls
    const owner = parseOwner(text);
    if (owner && options.shareWithinProcess && sameProcess(owner)) return held(path, owner);
    const age = await stat(path).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    // an unreadable lock is damage (content is written before the file appears); a dead holder's is stale
    const stale =
      !owner ||
      !(await lockOwnerAlive(owner)) ||
      (options.staleMs !== undefined && owner.host !== undefined && owner.host !== hostname() && age > options.staleMs);
    if (stale) {
      await removeIfUnchanged(path, text);
      continue;
    }
    if (options.breakLock) {
      options.onBroken?.(owner);
      await removeIfUnchanged(path, text);
      continue;
    }
    if (Date.now() >= deadline) throw new LockBusyError(path, owner);
    await new Promise((r) => setTimeout(r, Math.min(100, 10 + round * 10) + Math.random() * 20));
  }
}

/** A lock left by a killed process is not removed on the way out: the next taker sees its holder is gone. */
function held(path: string, owner: LockOwner): HeldLock {
  let released = false;
  return {
    path,
    owner,
    release: async () => {
      if (released) return;
      released = true;
      const text = await readFile(path, 'utf8').catch(() => undefined);
      if (text !== undefined && parseOwner(text)?.token === owner.token) await rm(path, { force: true });
    },
  };
}

/**
 * Runs `fn` holding the lock at `path`; the lock is released however `fn` ends. Made for short
 * steps (creating an experiment): by default a holder is waited for up to 60 s, and one on another
 * host is taken over once its lock is 30 s old.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lock = await acquireLock(path, { waitMs: 60_000, staleMs: 30_000, ...options });
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
