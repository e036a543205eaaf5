/**
 * The on-disk spool of `SpoolingTrackingStore`: an append-only JSON-lines file, one per sweep.
 * Each undeliverable write is one line with a sequence number; each delivery appends an
 * acknowledgement line for that number (with the real run id when the entry created a run). Every
 * append is fsync'd before it counts, so after a crash the file says exactly which writes are still
 * owed: the entries without an ack. When none is owed the file is truncated to empty.
 *
 *   {"seq":1,"op":"createRun","placeholder":"pending-3f…","request":{…,"startTime":1732…}}
 *   {"seq":2,"op":"logBatch","runId":"pending-3f…","batch":{"metrics":[{"key":"loss","value":"NaN",…}]}}
 *   {"ack":1,"runId":"8c1e…"}
 *   {"ack":2}
 *
 * A torn last line (a crash mid-append) is cut off on load; it was never acknowledged to the
 * caller. A line that is not an entry or an ack (damage, a hand edit) is skipped, counted in
 * `skippedLines`, and kept in `<spool>.unreadable` when the spool is emptied, never dropped unseen.
 *
 * One process at a time owns a spool that has something owed: `<spool>.lock` says who — pid, host,
 * the process's start time (Linux: /proc/<pid>/stat) and a random token — from the first entry
 * until the spool is empty again. A lock whose process is gone, a zombie, or whose pid now belongs
 * to another process (a different start time: the pid was reused) is taken over; one held by a
 * live process on another host, or on a system without /proc, is honoured unless `breakLock`
 * (`sync-runs --break-lock`) says to take it anyway.
 *
 * @example
 * ```ts
 * const journal = new SpoolJournal('.cache/spool/sweep.jsonl');
 * await journal.open();
 * const entry = await journal.add({ op: 'updateRun', request: { runId, status: 'FINISHED' } });
 * await journal.ack(entry.seq);
 * await journal.compact();   // empty again
 * ```
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { z } from 'zod';
import { CreateRunRequestSchema, DatasetInputSchema, KeyValueSchema, UpdateRunRequestSchema } from './entities';
import { MlflowCorruptStoreError, MlflowError } from './errors';

const WireMetricSchema = z.object({
  key: z.string(),
  value: z.union([z.number(), z.string()]),
  timestamp: z.number(),
  step: z.number(),
  // MLflow 3: the logged model and dataset a value belongs to
  model_id: z.string().optional(),
  dataset_name: z.string().optional(),
  dataset_digest: z.string().optional(),
});

/** A batch as JSON can hold it: metric values encoded as in MLflow's REST JSON. */
export const SpoolBatchSchema = z.object({
  metrics: z.array(WireMetricSchema).optional(),
  params: z.array(KeyValueSchema).optional(),
  tags: z.array(KeyValueSchema).optional(),
});
export type SpoolBatch = z.infer<typeof SpoolBatchSchema>;

export const SpoolEntrySchema = z.discriminatedUnion('op', [
  z.object({
    seq: z.number().int().positive(),
    op: z.literal('createRun'),
    placeholder: z.string(),
    request: CreateRunRequestSchema,
  }),
  z.object({ seq: z.number().int().positive(), op: z.literal('logBatch'), runId: z.string(), batch: SpoolBatchSchema }),
  z.object({ seq: z.number().int().positive(), op: z.literal('updateRun'), request: UpdateRunRequestSchema }),
  z.object({
    seq: z.number().int().positive(),
    op: z.literal('logArtifact'),
    runId: z.string(),
    path: z.string(),
    base64: z.string(),
  }),
  z.object({
    seq: z.number().int().positive(),
    op: z.literal('logInputs'),
    runId: z.string(),
    datasets: z.array(DatasetInputSchema),
  }),
]);
export type SpoolEntry = z.infer<typeof SpoolEntrySchema>;
/** An entry before it has its sequence number. */
export type SpoolEntryBody = SpoolEntry extends infer E ? (E extends SpoolEntry ? Omit<E, 'seq'> : never) : never;

const AckSchema = z.object({
  ack: z.number().int().positive(),
  runId: z.string().optional(),
  error: z.string().optional(),
});

/** Who holds a spool's lock. Older locks hold only the pid. */
export const SpoolLockOwnerSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string().optional(),
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22): a pid plus this names one process. */
  start: z.string().optional(),
  token: z.string().optional(),
  since: z.string().optional(),
});
export type SpoolLockOwner = z.infer<typeof SpoolLockOwnerSchema>;

/** /proc/<pid>/stat split after the command name, which may hold spaces and parentheses. */
async function procStat(pid: number): Promise<string[] | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
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

function readOwner(text: string): SpoolLockOwner | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { pid: Number(trimmed) };
  try {
    const parsed = SpoolLockOwnerSchema.safeParse(JSON.parse(trimmed));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the lock's owner may still be at work: same host, pid alive and not a zombie, and — when
 * both start times are known — the same process, not a new one that got the pid. A lock from
 * another host cannot be checked from here and counts as held.
 */
async function ownerAlive(owner: SpoolLockOwner): Promise<boolean> {
  if (owner.host && owner.host !== hostname()) return true;
  if (!(await processAlive(owner.pid))) return false;
  if (owner.start === undefined) return true;
  const now = await processStartTime(owner.pid);
  return now === undefined || now === owner.start;
}

function describeOwner(owner: SpoolLockOwner): string {
  return `process ${owner.pid}${owner.host ? ` on ${owner.host}` : ''}${owner.since ? ` (since ${owner.since})` : ''}`;
}

export class SpoolJournal {
  private entries: SpoolEntry[] = [];
  private readonly placeholders = new Map<string, string>();
  private readonly failedPlaceholders = new Map<string, string>();
  private nextSeq = 1;
  private opened?: Promise<void>;
  /** File operations run one after another. */
  private io: Promise<unknown> = Promise.resolve();
  private ownsLock = false;
  private readonly token = randomUUID();
  /** Lines that could not be read on open (corruption other than a torn tail). */
  readonly skippedLines: string[] = [];

  /**
   * `lockWaitMs`: how long to wait for a live lock holder to go before SPOOL_BUSY (default 5 s);
   * `breakLock`: take the lock even from a process that seems alive (its pid may belong to another
   * program by now), after `onLockBroken` is told whose it was.
   */
  constructor(
    readonly path: string,
    private readonly options: {
      lockWaitMs?: number;
      breakLock?: boolean;
      onLockBroken?: (owner: SpoolLockOwner) => void;
    } = {},
  ) {}

  get unreadablePath(): string {
    return `${this.path}.unreadable`;
  }

  get lockPath(): string {
    return `${this.path}.lock`;
  }

  /** Entries not yet acknowledged, oldest first. */
  get pending(): readonly SpoolEntry[] {
    return this.entries;
  }

  /** The real run id of a placeholder, once its creation was delivered. */
  realRunId(placeholder: string): string | undefined {
    return this.placeholders.get(placeholder);
  }

  /** Why a placeholder's run could not be created, when that failed for good. */
  creationError(placeholder: string): string | undefined {
    return this.failedPlaceholders.get(placeholder);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.io.then(fn);
    this.io = next.catch(() => undefined);
    return next;
  }

  /**
   * Takes `<spool>.lock` for this process. A lock whose process is gone (a zombie, or a pid now
   * used by another process) is taken over; one held by a live process is waited for up to
   * `waitMs` (a killed process takes a moment to go), then refused with SPOOL_BUSY — or taken
   * with `breakLock`.
   */
  private async lock(waitMs = this.options.lockWaitMs ?? 5_000): Promise<void> {
    if (this.ownsLock) return;
    await mkdir(dirname(this.path), { recursive: true });
    const deadline = Date.now() + waitMs;
    const me: SpoolLockOwner = {
      pid: process.pid,
      host: hostname(),
      start: await processStartTime(process.pid),
      token: this.token,
      since: new Date().toISOString(),
    };
    for (;;) {
      try {
        const handle = await open(this.lockPath, 'wx');
        await handle.writeFile(`${JSON.stringify(me)}\n`);
        await handle.close();
        this.ownsLock = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = readOwner(await readFile(this.lockPath, 'utf8').catch(() => ''));
      if (owner?.pid === process.pid && (!owner.host || owner.host === me.host)) {
        this.ownsLock = true; // another journal of this process took it; one process, one owner
        return;
      }
      if (!owner || !(await ownerAlive(owner))) {
        await rm(this.lockPath, { force: true }); // its owner is gone (or the lock is unreadable)
        continue;
      }
      if (this.options.breakLock) {
        this.options.onLockBroken?.(owner);
        await rm(this.lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new MlflowError(
          `the spool ${this.path} is in use by ${describeOwner(owner)} (lock ${this.lockPath}); replay it when that process has ended — or, if it is no sweep of yours (a pid reused by another program, a machine that is gone), take it over with sync-runs --break-lock`,
          'SPOOL_BUSY',
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Reads what an earlier process left, taking the lock when something is owed (a spool with
   * nothing owed needs no owner: a sweep whose server never went away holds no lock). Idempotent.
   */
  open(): Promise<void> {
    this.opened ??= this.serial(async () => {
      let bytes = await this.readBytes();
      if (bytes.toString('utf8').trim()) {
        await this.lock();
        bytes = await this.readBytes();
      }
      if (bytes.length && bytes[bytes.length - 1] !== 0x0a) {
        // a crash mid-append: the partial line was never reported as spooled
        const keep = bytes.lastIndexOf(0x0a) + 1;
        const handle = await open(this.path, 'r+');
        try {
          await handle.truncate(keep);
          await handle.sync();
        } finally {
          await handle.close();
        }
        bytes = bytes.subarray(0, keep);
      }
      const text = bytes.toString('utf8');
      this.skippedLines.length = 0;
      const bySeq = new Map<number, SpoolEntry>();
      for (const raw of text.split('\n')) {
        if (!raw.trim()) continue;
        let line: unknown;
        try {
          line = JSON.parse(raw);
        } catch {
          this.skippedLines.push(raw);
          continue;
        }
        const ack = AckSchema.safeParse(line);
        if (ack.success) {
          const acked = bySeq.get(ack.data.ack);
          if (acked?.op === 'createRun') {
            if (ack.data.runId) this.placeholders.set(acked.placeholder, ack.data.runId);
            else if (ack.data.error) this.failedPlaceholders.set(acked.placeholder, ack.data.error);
          }
          bySeq.delete(ack.data.ack);
          this.nextSeq = Math.max(this.nextSeq, ack.data.ack + 1);
          continue;
        }
        const entry = SpoolEntrySchema.safeParse(line);
        if (!entry.success) {
          this.skippedLines.push(raw);
          continue;
        }
        bySeq.set(entry.data.seq, entry.data);
        this.nextSeq = Math.max(this.nextSeq, entry.data.seq + 1);
      }
      this.entries = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    });
    return this.opened;
  }

  /** The file's bytes ('' when it does not exist); a spool that cannot be read names itself. */
  private async readBytes(): Promise<Buffer> {
    try {
      return await readFile(this.path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return Buffer.alloc(0);
      throw new MlflowCorruptStoreError(this.path, `the spool cannot be read (${code ?? error})`);
    }
  }

  private async append(line: object): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const handle = await open(this.path, 'a');
    try {
      const { size } = await handle.stat();
      await handle.write(`${JSON.stringify(line)}\n`);
      await handle.sync();
      if (size === 0) {
        // a new file: make its directory entry durable too
        const dir = await open(dirname(this.path), 'r');
        await dir.sync().catch(() => undefined);
        await dir.close();
      }
    } finally {
      await handle.close();
    }
  }

  /** Appends an entry (fsync'd) and returns it with its sequence number. */
  async add(body: SpoolEntryBody): Promise<SpoolEntry> {
    await this.open();
    return this.serial(async () => {
      await this.lock();
      const entry = { ...body, seq: this.nextSeq } as SpoolEntry;
      await this.append(entry);
      this.nextSeq++;
      this.entries.push(entry);
      return entry;
    });
  }

  /** Records that an entry was delivered (or failed for good, with `error`); fsync'd. */
  async ack(seq: number, extra: { runId?: string; error?: string } = {}): Promise<void> {
    await this.serial(async () => {
      await this.append({ ack: seq, ...extra });
      const i = this.entries.findIndex((e) => e.seq === seq);
      const [entry] = i >= 0 ? this.entries.splice(i, 1) : [];
      if (entry?.op === 'createRun') {
        if (extra.runId) this.placeholders.set(entry.placeholder, extra.runId);
        else if (extra.error) this.failedPlaceholders.set(entry.placeholder, extra.error);
      }
    });
  }

  /** Empties the file when nothing is owed (placeholders stay known in memory); unreadable lines move to `<spool>.unreadable`. */
  async compact(): Promise<boolean> {
    return this.serial(async () => {
      if (this.entries.length) return false;
      if (this.skippedLines.length) {
        await appendFile(this.unreadablePath, this.skippedLines.map((l) => `${l}\n`).join(''));
        const kept = await open(this.unreadablePath, 'r+');
        await kept.sync().finally(() => kept.close());
        this.skippedLines.length = 0;
      }
      const handle = await open(this.path, 'r+').catch(() => undefined);
      if (handle) {
        try {
          await handle.truncate(0);
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
      // nothing owed: nothing to own
      if (this.ownsLock) await rm(this.lockPath, { force: true });
      this.ownsLock = false;
      return true;
    });
  }

  /** Gives the lock back (the file stays, with whatever is still owed). */
  async release(): Promise<void> {
    await this.serial(async () => {
      if (this.ownsLock) await rm(this.lockPath, { force: true });
      this.ownsLock = false;
      this.opened = undefined;
    });
  }
}
