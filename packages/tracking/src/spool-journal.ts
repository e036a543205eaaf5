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
 * A torn last line (a crash mid-append) is cut off on load, and a line that is not an entry or an
 * ack (damage, a hand edit) is skipped: both are counted in `skippedLines`, kept in
 * `<spool>.unreadable` when the spool is emptied, never dropped unseen, and the writes they held
 * are `lost` (spool-damage.ts: which entry, which run) for the replay to report and mark.
 *
 * One process at a time owns a spool that has something owed: `<spool>.lock` (@cfa/io's one lock
 * file) says who — pid, host, the process's start time and a random token — from the first entry
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
import { appendFile, mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { acquireLock, describeLockOwner, type HeldLock, LockBusyError, type LockOwner } from '@cfa/io';
import { z } from 'zod';
import { CreateRunRequestSchema, DatasetInputSchema, KeyValueSchema, UpdateRunRequestSchema } from './entities';
import { MlflowCorruptStoreError, MlflowError } from './errors';
import { type LostWrite, lostWrites, type SpoolLine } from './spool-damage';

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

/** Who holds a spool's lock: the one lock of @cfa/io. */
export type SpoolLockOwner = LockOwner;

export class SpoolJournal {
  private entries: SpoolEntry[] = [];
  private readonly placeholders = new Map<string, string>();
  private readonly failedPlaceholders = new Map<string, string>();
  private nextSeq = 1;
  private opened?: Promise<void>;
  /** File operations run one after another. */
  private io: Promise<unknown> = Promise.resolve();
  private held?: HeldLock;
  /** Lines that could not be read on open (damage, or a torn last line). */
  readonly skippedLines: string[] = [];
  /** The writes those lines held that will never be delivered (`lostWrites`). */
  lost: LostWrite[] = [];

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

  /**
   * Whether a placeholder's run will never be created: its creation is neither delivered, pending
   * nor refused — it was in a damaged line.
   */
  creationLost(placeholder: string): boolean {
    return (
      !this.placeholders.has(placeholder) &&
      !this.failedPlaceholders.has(placeholder) &&
      !this.entries.some((e) => e.op === 'createRun' && e.placeholder === placeholder)
    );
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
   * Takes `<spool>.lock` for this process (@cfa/io's lock: a holder that is gone is taken over; a
   * live one is waited for up to `waitMs` — a killed process takes a moment to go —, then refused
   * with SPOOL_BUSY, or taken with `breakLock`). Other journals of this process share it.
   */
  private async lock(waitMs = this.options.lockWaitMs ?? 5_000): Promise<void> {
    if (this.held) return;
    try {
      this.held = await acquireLock(this.lockPath, {
        waitMs,
        breakLock: this.options.breakLock,
        onBroken: this.options.onLockBroken,
        shareWithinProcess: true,
      });
    } catch (error) {
      if (!(error instanceof LockBusyError)) throw error;
      throw new MlflowError(
        `the spool ${this.path} is in use by ${describeLockOwner(error.owner)} (lock ${this.lockPath}); replay it when that process has ended — or, if it is no sweep of yours (a pid reused by another program, a machine that is gone), take it over with sync-runs --break-lock`,
        'SPOOL_BUSY',
      );
    }
  }

  private async unlock(): Promise<void> {
    await this.held?.release();
    this.held = undefined;
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
      let torn: string | undefined;
      if (bytes.length && bytes[bytes.length - 1] !== 0x0a) {
        // a crash mid-append: the partial line was never reported as spooled, yet its write is
        // lost — it is kept in <spool>.unreadable and reported with the damaged lines
        const keep = bytes.lastIndexOf(0x0a) + 1;
        torn = bytes.subarray(keep).toString('utf8');
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
      const lines: SpoolLine[] = [];
      const damaged = (raw: string, isTorn = false) => {
        this.skippedLines.push(raw);
        lines.push({ kind: 'damaged', raw, torn: isTorn });
      };
      const bySeq = new Map<number, SpoolEntry>();
      for (const raw of text.split('\n')) {
        if (!raw.trim()) continue;
        let line: unknown;
        try {
          line = JSON.parse(raw);
        } catch {
          damaged(raw);
          continue;
        }
        const ack = AckSchema.safeParse(line);
        if (ack.success) {
          lines.push({ kind: 'ack', seq: ack.data.ack });
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
          damaged(raw);
          continue;
        }
        lines.push({ kind: 'entry', entry: entry.data });
        bySeq.set(entry.data.seq, entry.data);
        this.nextSeq = Math.max(this.nextSeq, entry.data.seq + 1);
      }
      if (torn?.trim()) damaged(torn, true);
      this.entries = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
      this.lost = lostWrites(lines);
      // a damaged line stays in the file: a new entry must not reuse its number (a torn one is cut off)
      for (const w of this.lost) if (w.seq !== undefined && !w.torn) this.nextSeq = Math.max(this.nextSeq, w.seq + 1);
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
      await this.unlock();
      return true;
    });
  }

  /** Gives the lock back (the file stays, with whatever is still owed). */
  async release(): Promise<void> {
    await this.serial(async () => {
      await this.unlock();
      this.opened = undefined;
    });
  }
}
