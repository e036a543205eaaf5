/**
 * No metric lost when the tracking server goes away. Writes go to the server; a write that cannot
 * be delivered (no answer, 429, 5xx) is appended to an on-disk spool — append-only JSON lines,
 * fsync'd — and every later write queues behind it, so order is kept. A background loop replays
 * the spool once the server answers again; `flush()` does it on demand and `replaySpool` replays a
 * spool left by an earlier process (`nx run experiments:sync-runs`).
 *
 * Exactly once: each spooled entry is acknowledged in the spool after delivery, so a restart never
 * resends it; and before (re)sending metrics, the replay reads the run's history for those keys and
 * drops points already there, so an entry whose answer was lost (the server applied it, the client
 * never heard) is not applied twice. Params re-logged with the same value, tags, run updates and
 * artifact uploads are idempotent by themselves.
 *
 * Runs created while the server is down get a local placeholder id (`pending-…`); the replay
 * creates the real run first and maps every later entry onto it.
 *
 * @example
 * ```ts
 * const store = new SpoolingTrackingStore(new RestTrackingStore({ uri }), '.cache/spool/sweep-abc.jsonl');
 * await store.logBatch(runId, { metrics });   // never throws for an unreachable server
 * await store.flush();                        // true when everything was delivered
 * ```
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MlflowParamConflictError, MlflowRateLimitError, MlflowServerError, MlflowUnavailableError } from './errors';
import { decodeMetricValue, encodeMetricValue } from './rest-store';
import type { TrackingStore } from './tracking-store';
import type { ArtifactInfo, Batch, CreateRunRequest, Metric, Run, SearchRunsRequest, SearchRunsResult, UpdateRunRequest } from './types';

type Entry =
  | { seq: number; op: 'createRun'; placeholder: string; request: CreateRunRequest }
  | { seq: number; op: 'logBatch'; runId: string; batch: Batch }
  | { seq: number; op: 'updateRun'; request: UpdateRunRequest }
  | { seq: number; op: 'logArtifact'; runId: string; path: string; base64: string };

/** An entry before it gets its sequence number (Omit distributed over the union). */
type EntryBody = Entry extends infer E ? (E extends Entry ? Omit<E, 'seq'> : never) : never;

type Line = Entry | { ack: number; runId?: string; error?: string };

export function isDeliveryFailure(error: unknown): boolean {
  return (error instanceof MlflowUnavailableError || error instanceof MlflowRateLimitError || error instanceof MlflowServerError) && !(error instanceof MlflowParamConflictError);
}

const PLACEHOLDER = 'pending-';

/** JSON with NaN/±Infinity kept (as MLflow's strings). */
function encodeBatch(batch: Batch): Batch {
  return { ...batch, metrics: batch.metrics?.map((m) => ({ ...m, value: encodeMetricValue(m.value) as number })) };
}

function decodeBatch(batch: Batch): Batch {
  return { ...batch, metrics: batch.metrics?.map((m) => ({ ...m, value: decodeMetricValue(m.value) })) };
}

export interface SpoolStats {
  spooled: number;
  delivered: number;
  duplicatesSkipped: number;
  failed: { seq: number; error: string }[];
}

export class SpoolingTrackingStore implements TrackingStore {
  private pending: Entry[] = [];
  private readonly placeholders = new Map<string, string>();
  private nextSeq = 1;
  private loaded?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<boolean>;
  /** Serialises writes so that order is kept between direct sends and spooled ones. */
  private chain: Promise<unknown> = Promise.resolve();
  readonly stats: SpoolStats = { spooled: 0, delivered: 0, duplicatesSkipped: 0, failed: [] };

  constructor(
    private readonly inner: TrackingStore,
    readonly spoolPath: string,
    private readonly options: { retryIntervalMs?: number; onEvent?: (line: string) => void } = {},
  ) {}

  get location(): string {
    return this.inner.location;
  }

  /** Entries not yet delivered. */
  get backlog(): number {
    return this.pending.length;
  }

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      const text = await readFile(this.spoolPath, 'utf8').catch(() => '');
      const entries = new Map<number, Entry>();
      for (const raw of text.split('\n')) {
        if (!raw.trim()) continue;
        let line: Line;
        try {
          line = JSON.parse(raw) as Line;
        } catch {
          continue; // a torn last line from a crash mid-append: never acknowledged, never sent
        }
        if ('ack' in line) {
          const acked = entries.get(line.ack);
          if (acked?.op === 'createRun' && line.runId) this.placeholders.set(acked.placeholder, line.runId);
          entries.delete(line.ack);
          this.nextSeq = Math.max(this.nextSeq, line.ack + 1);
        } else {
          entries.set(line.seq, line);
          this.nextSeq = Math.max(this.nextSeq, line.seq + 1);
        }
      }
      this.pending = [...entries.values()].sort((a, b) => a.seq - b.seq);
      if (this.pending.length) this.schedule();
    })();
    return this.loaded;
  }

  private async append(line: Line): Promise<void> {
    await mkdir(dirname(this.spoolPath), { recursive: true });
    const handle = await open(this.spoolPath, 'a');
    try {
      await handle.write(`${JSON.stringify(line)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  private async spool(entry: EntryBody): Promise<void> {
    const full = { ...entry, seq: this.nextSeq++ } as Entry;
    await this.append(full);
    this.pending.push(full);
    this.stats.spooled++;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().then((done) => {
        if (!done) this.schedule();
      });
    }, this.options.retryIntervalMs ?? 2_000);
    this.timer.unref();
  }

  private resolveRun(runId: string): string | undefined {
    return runId.startsWith(PLACEHOLDER) ? this.placeholders.get(runId) : runId;
  }

  /** Drops metric points the server already has (a delivery whose answer was lost). */
  private async withoutDelivered(runId: string, batch: Batch): Promise<Batch> {
    if (!batch.metrics?.length) return batch;
    const seen = new Map<string, Set<string>>();
    for (const key of new Set(batch.metrics.map((m) => m.key))) {
      const history = await this.inner.getMetricHistory(runId, key);
      seen.set(key, new Set(history.map((m) => `${m.step}|${m.timestamp}|${m.value}`)));
    }
    const metrics = batch.metrics.filter((m) => !seen.get(m.key)!.has(`${m.step}|${m.timestamp}|${m.value}`));
    this.stats.duplicatesSkipped += batch.metrics.length - metrics.length;
    return { ...batch, metrics };
  }

  private async deliver(entry: Entry): Promise<string | undefined> {
    switch (entry.op) {
      case 'createRun': {
        const parentRunId = entry.request.parentRunId ? this.resolveRun(entry.request.parentRunId) : undefined;
        return (await this.inner.createRun({ ...entry.request, parentRunId })).info.runId;
      }
      case 'logBatch': {
        const runId = this.resolveRun(entry.runId)!;
        await this.inner.logBatch(runId, await this.withoutDelivered(runId, decodeBatch(entry.batch)));
        return undefined;
      }
      case 'updateRun':
        await this.inner.updateRun({ ...entry.request, runId: this.resolveRun(entry.request.runId)! });
        return undefined;
      case 'logArtifact':
        await this.inner.logArtifact(this.resolveRun(entry.runId)!, entry.path, Buffer.from(entry.base64, 'base64'));
        return undefined;
    }
  }

  /** Sends the spool in order; true when nothing is left. Stops at the first delivery failure. */
  flush(): Promise<boolean> {
    this.flushing ??= (async () => {
      await this.load();
      try {
        while (this.pending.length) {
          const entry = this.pending[0];
          let runId: string | undefined;
          try {
            runId = await this.deliver(entry);
          } catch (error) {
            if (isDeliveryFailure(error)) return false;
            // a permanent error (e.g. a changed param) cannot be fixed by retrying: record and move on
            this.stats.failed.push({ seq: entry.seq, error: (error as Error).message });
            this.options.onEvent?.(`spool entry ${entry.seq} (${entry.op}) failed for good: ${(error as Error).message}`);
            await this.append({ ack: entry.seq, error: (error as Error).message });
            this.pending.shift();
            continue;
          }
          if (entry.op === 'createRun' && runId) this.placeholders.set(entry.placeholder, runId);
          await this.append({ ack: entry.seq, ...(runId ? { runId } : {}) });
          this.pending.shift();
          this.stats.delivered++;
        }
        // everything acknowledged: start the next outage from an empty file
        await writeFile(`${this.spoolPath}.tmp`, '');
        await rename(`${this.spoolPath}.tmp`, this.spoolPath);
        return true;
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  /** A write: direct when nothing is queued, else (or on a delivery failure) into the spool. */
  private write(entry: EntryBody, direct: () => Promise<void>): Promise<void> {
    const next = this.chain.then(async () => {
      await this.load();
      if (this.pending.length === 0) {
        try {
          await direct();
          return;
        } catch (error) {
          if (!isDeliveryFailure(error)) throw error;
          this.options.onEvent?.(`tracking server unreachable (${(error as Error).message.split('\n')[0]}); spooling to ${this.spoolPath}`);
        }
      }
      await this.spool(entry);
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  async createRun(request: CreateRunRequest): Promise<Run> {
    let created: Run | undefined;
    const placeholder = `${PLACEHOLDER}${randomUUID().replaceAll('-', '')}`;
    await this.write({ op: 'createRun', placeholder, request }, async () => {
      if (request.parentRunId?.startsWith(PLACEHOLDER) && !this.placeholders.has(request.parentRunId)) throw new MlflowUnavailableError('parent run not created yet', 'UNAVAILABLE');
      created = await this.inner.createRun({ ...request, parentRunId: request.parentRunId ? this.resolveRun(request.parentRunId) : undefined });
    });
    if (created) return created;
    return {
      info: { runId: placeholder, runName: request.runName ?? '', experimentId: request.experimentId, userId: request.userId ?? 'cfa', status: 'RUNNING', startTime: request.startTime ?? Date.now(), artifactUri: '', lifecycleStage: 'active' },
      data: { metrics: {}, params: {}, tags: { ...request.tags } },
    };
  }

  logBatch(runId: string, batch: Batch): Promise<void> {
    return this.write({ op: 'logBatch', runId, batch: encodeBatch(batch) }, async () => {
      const real = this.resolveRun(runId);
      if (!real) throw new MlflowUnavailableError('run not created yet', 'UNAVAILABLE');
      await this.inner.logBatch(real, batch);
    });
  }

  setTag(runId: string, key: string, value: string): Promise<void> {
    return this.logBatch(runId, { tags: [{ key, value }] });
  }

  updateRun(request: UpdateRunRequest): Promise<void> {
    return this.write({ op: 'updateRun', request }, async () => {
      const real = this.resolveRun(request.runId);
      if (!real) throw new MlflowUnavailableError('run not created yet', 'UNAVAILABLE');
      await this.inner.updateRun({ ...request, runId: real });
    });
  }

  logArtifact(runId: string, artifactPath: string, content: Uint8Array | string): Promise<void> {
    const bytes = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
    return this.write({ op: 'logArtifact', runId, path: artifactPath, base64: bytes.toString('base64') }, async () => {
      const real = this.resolveRun(runId);
      if (!real) throw new MlflowUnavailableError('run not created yet', 'UNAVAILABLE');
      await this.inner.logArtifact(real, artifactPath, bytes);
    });
  }

  getExperimentByName(name: string) {
    return this.inner.getExperimentByName(name);
  }

  getOrCreateExperiment(name: string, tags?: Record<string, string>): Promise<string> {
    return this.inner.getOrCreateExperiment(name, tags);
  }

  getRun(runId: string): Promise<Run> {
    return this.inner.getRun(this.resolveRun(runId) ?? runId);
  }

  searchRuns(request: SearchRunsRequest): Promise<SearchRunsResult> {
    return this.inner.searchRuns(request);
  }

  getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    return this.inner.getMetricHistory(this.resolveRun(runId) ?? runId, key);
  }

  listArtifacts(runId: string, path?: string): Promise<ArtifactInfo[]> {
    return this.inner.listArtifacts(this.resolveRun(runId) ?? runId, path);
  }

  downloadArtifact(runId: string, path: string): Promise<Buffer> {
    return this.inner.downloadArtifact(this.resolveRun(runId) ?? runId, path);
  }

  /** Waits for queued writes, tries one last flush, and stops the retry loop; the spool stays on disk if needed. */
  async close(): Promise<void> {
    await this.chain;
    if (this.pending.length) await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inner.close();
  }
}

/** Replays a spool left by an earlier process; returns what it delivered. */
export async function replaySpool(spoolPath: string, inner: TrackingStore): Promise<SpoolStats & { complete: boolean }> {
  const store = new SpoolingTrackingStore(inner, spoolPath);
  const complete = await store.flush();
  return { ...store.stats, complete };
}
