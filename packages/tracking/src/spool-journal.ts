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
 * caller. One process at a time owns a spool that has something owed: `<spool>.lock` holds its
 * pid from the first entry until the spool is empty again, and a lock whose process is gone (or
 * killed and not yet reaped) is taken over.
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
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { CreateRunRequestSchema, KeyValueSchema, UpdateRunRequestSchema } from './entities';
import { MlflowError } from './errors';

const WireMetricSchema = z.object({
  key: z.string(),
  value: z.union([z.number(), z.string()]),
  timestamp: z.number(),
  step: z.number(),
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
]);
export type SpoolEntry = z.infer<typeof SpoolEntrySchema>;
/** An entry before it has its sequence number. */
export type SpoolEntryBody = SpoolEntry extends infer E ? (E extends SpoolEntry ? Omit<E, 'seq'> : never) : never;

const AckSchema = z.object({
  ack: z.number().int().positive(),
  runId: z.string().optional(),
  error: z.string().optional(),
});

/** Whether a process is still running: it exists and, where /proc tells, is not a zombie (killed, not yet reaped). */
async function processAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  const state = stat?.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
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
  /** Lines that could not be read on open (corruption other than a torn tail). */
  readonly skippedLines: string[] = [];

  /** `lockWaitMs`: how long to wait for a live lock holder to go before SPOOL_BUSY (default 5 s). */
  constructor(
    readonly path: string,
    private readonly options: { lockWaitMs?: number } = {},
  ) {}

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
   * Takes `<spool>.lock` for this process. A lock whose process is gone (or a zombie) is taken over;
   * one held by a live process is waited for up to `waitMs` (a killed process takes a moment to
   * go), then refused with SPOOL_BUSY.
   */
  private async lock(waitMs = this.options.lockWaitMs ?? 5_000): Promise<void> {
    if (this.ownsLock) return;
    await mkdir(dirname(this.path), { recursive: true });
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        const handle = await open(this.lockPath, 'wx');
        await handle.writeFile(String(process.pid));
        await handle.close();
        this.ownsLock = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const pid = Number((await readFile(this.lockPath, 'utf8').catch(() => '')).trim());
      if (pid === process.pid) {
        this.ownsLock = true; // another journal of this process took it; one process, one owner
        return;
      }
      if (!(pid > 0 && (await processAlive(pid)))) {
        await rm(this.lockPath, { force: true }); // its owner is gone
        continue;
      }
      if (Date.now() > deadline) {
        throw new MlflowError(
          `the spool ${this.path} is in use by process ${pid} (lock ${this.lockPath}); replay it when that process has ended`,
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
      if ((await readFile(this.path, 'utf8').catch(() => '')).trim()) await this.lock();
      let text = await readFile(this.path, 'utf8').catch(() => '');
      if (text && !text.endsWith('\n')) {
        // a crash mid-append: the partial line was never reported as spooled
        const keep = text.lastIndexOf('\n') + 1;
        const handle = await open(this.path, 'r+');
        try {
          await handle.truncate(Buffer.byteLength(text.slice(0, keep)));
          await handle.sync();
        } finally {
          await handle.close();
        }
        text = text.slice(0, keep);
      }
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

  /** Empties the file when nothing is owed (placeholders stay known in memory). */
  async compact(): Promise<boolean> {
    return this.serial(async () => {
      if (this.entries.length) return false;
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
