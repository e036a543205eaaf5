/**
 * Nothing lost when the tracking server goes away. Wraps a store (a `RestTrackingStore`): a write
 * — createRun, logBatch / logMetric / logParam / setTag, logInputs, updateRun, logArtifact — that fails with
 * "no server" after the inner store's own retries (`MlflowUnavailableError`, 429, 502/503/504) goes
 * into the spool (spool-journal.ts: append-only, fsync'd JSON lines, one file per sweep), and
 * every later write queues behind it, so order is kept. Training never waits for the server longer
 * than the inner store's deadline (a server that accepts connections and never answers costs one
 * deadline, then everything goes to the spool at once). A timer replays the spool while it is not
 * empty; `flush()` does it now, `flush({ deadlineAt })` gives up at that time (the inner store's
 * `until`); `replaySpool(file, store)` replays one left by an earlier process (`sync-runs`).
 * 401/403 are not "no server": they are thrown, never spooled.
 *
 * Exactly once:
 * 1. Every entry has a sequence number; after the server confirms it, an ack line is appended and
 *    fsync'd before the next entry is sent, in order. Acked entries are never sent again, by this
 *    process or a later one, and one process at a time owns a spool (its lock file).
 * 2. The one window left — delivered, but the ack not yet written (the answer was lost, or the
 *    process died) — is closed by making each replay idempotent at the server: before a logBatch
 *    entry is sent, the run's history for its keys is read and points already there (same key,
 *    step, timestamp and value) are dropped, which also covers a batch the server half applied
 *    (the file store writes params, then metrics one by one, then tags); params are re-logged with
 *    the same value, which MLflow accepts; tags, run updates and artifact uploads overwrite with
 *    the same content; a createRun first looks for the run it may have made (same experiment, start
 *    time — fixed when spooled —, name and parent) and adopts it.
 * 3. A write that the server refuses for good (e.g. a changed param) cannot be fixed by retrying: it
 *    is acked with its error, reported (`stats.failed`, `onEvent`) and skipped; a logBatch refused for
 *    a param conflict is re-sent without its params, so its metrics still arrive.
 *
 * Runs created while the server is down: MLflow assigns run ids on the server, so no real id can
 * be made locally. `createRun` then returns at once with a placeholder id `pending-<32 hex>`
 * (`isPendingRunId`), logs an event saying so, and spools the creation; every write for that id
 * queues behind it and is mapped to the real id when the spool is delivered (`resolveRunId`). Reads
 * of a run whose creation is still spooled fail with `MlflowUnavailableError`. Experiments are not
 * spooled: `getOrCreateExperiment` needs the server (a sweep resolves it before its first run).
 *
 * @example
 * ```ts
 * const store = new SpoolingTrackingStore(new RestTrackingStore({ uri }), '.cache/spool/sweep-ab12.jsonl', { onEvent: console.warn });
 * const run = await store.createRun({ experimentId, runName: 'cell 1' }); // a pending- id if the server is away
 * await store.logMetric(run.info.runId, 'loss', 0.3, 1);                  // never throws for "no server"
 * if (!(await store.flush())) console.warn(`${store.backlog} writes still spooled in ${store.spoolPath}`);
 * await store.close();
 * ```
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  type ArtifactInfo,
  type Batch,
  type CreateLoggedModelRequest,
  type CreateRunRequest,
  CreateRunRequestSchema,
  type DatasetInputRequest,
  type Experiment,
  type LoggedModel,
  type LoggedModelStatus,
  type Metric,
  MLFLOW_TAGS,
  type ModelOutput,
  type Run,
  type SearchLoggedModelsRequest,
  type SearchLoggedModelsResult,
  type SearchRunsRequest,
  type SearchRunsResult,
  type UpdateRunRequest,
  UpdateRunRequestSchema,
} from './entities';
import {
  isAuthError,
  MlflowInvalidParameterError,
  MlflowParamConflictError,
  MlflowRateLimitError,
  MlflowServerError,
  MlflowUnavailableError,
} from './errors';
import { decodeMetricValue } from './metric-value';
import { describeLostWrite } from './spool-damage';
import { type SpoolBatch, type SpoolEntry, type SpoolEntryBody, SpoolJournal } from './spool-journal';
import { BatchLoggingStore, findRunCreatedBy, type TrackingStore } from './tracking-store';
import { normalizeBatch, normalizeDatasetInputs, parseRequest } from './validation';
import { metricToWire } from './wire-format';

export const SpoolingTrackingStoreOptionsSchema = z.strictObject({
  /** How often the spool is replayed while not empty. */
  retryIntervalMs: z.number().int().positive().default(2_000),
  /** Lines for the user: spooling started, a run queued, an entry refused for good, a lock taken over. */
  onEvent: z.custom<(line: string) => void>((v) => typeof v === 'function', 'expected a function').optional(),
  /** Take the spool's lock even from a process that seems alive (`sync-runs --break-lock`). */
  breakLock: z.boolean().default(false),
});
export type SpoolingTrackingStoreOptions = z.input<typeof SpoolingTrackingStoreOptionsSchema>;

export interface SpoolStats {
  /** Writes that went into the spool. */
  spooled: number;
  /** Spool entries delivered. */
  delivered: number;
  /** Metric points not re-sent on replay because the server already had them. */
  duplicatesSkipped: number;
  /** Entries the server refused for good. */
  failed: { seq: number; op: string; error: string }[];
  /** Lines of the spool file that were neither an entry nor an ack (kept in `<spool>.unreadable`). */
  unreadableLines: number;
  /** Every real run id the replay wrote to, for a caller that checks on them afterwards. */
  runIds: string[];
  /** Writes lost in damaged lines, described (which entry, which run). */
  lost: string[];
  /** Runs the spool would have closed FINISHED that were closed FAILED instead: some of their writes are lost. */
  failedForLostWrites: string[];
}

/** On a run some of whose spooled writes were lost: which, and where. The run is not FINISHED. */
export const SPOOL_LOST_WRITES_TAG = 'cfa.spool.lost_writes';

/** A store whose calls can be bounded by a time (`RestTrackingStore.until`). */
interface Boundable {
  until(deadlineAt: number): TrackingStore;
}
const boundable = (store: TrackingStore): store is TrackingStore & Boundable =>
  typeof (store as Partial<Boundable>).until === 'function';

const PLACEHOLDER = 'pending-';

export function isPendingRunId(runId: string): boolean {
  return runId.startsWith(PLACEHOLDER);
}

/** Failures that mean "no server right now": spool and retry later. */
export function isDeliveryFailure(error: unknown): boolean {
  if (error instanceof MlflowParamConflictError) return false;
  if (error instanceof MlflowUnavailableError || error instanceof MlflowRateLimitError) return true;
  return error instanceof MlflowServerError && (error.status === 502 || error.status === 503 || error.status === 504);
}

function batchToSpool(batch: Batch): SpoolBatch {
  const n = normalizeBatch(batch);
  return {
    ...(n.metrics.length ? { metrics: n.metrics.map((m) => metricToWire(m)) } : {}),
    ...(n.params.length ? { params: n.params } : {}),
    ...(n.tags.length ? { tags: n.tags } : {}),
  };
}

function batchFromSpool(batch: SpoolBatch): Required<Batch> {
  return {
    metrics: (batch.metrics ?? []).map((m) => ({
      key: m.key,
      value: decodeMetricValue(m.value),
      timestamp: m.timestamp,
      step: m.step,
      ...(m.model_id ? { modelId: m.model_id } : {}),
      ...(m.dataset_name ? { datasetName: m.dataset_name, datasetDigest: m.dataset_digest } : {}),
    })),
    params: batch.params ?? [],
    tags: batch.tags ?? [],
  };
}

const pointKey = (m: Metric) => `${m.step}|${m.timestamp}|${m.value}`;

export class SpoolingTrackingStore extends BatchLoggingStore implements TrackingStore {
  private readonly journal: SpoolJournal;
  private readonly options: z.output<typeof SpoolingTrackingStoreOptionsSchema>;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<boolean>;
  /** Serialises writes, so that direct sends and spooled ones keep their order. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Metric points known to be on the server, per run and key, during one replay. */
  private delivered = new Map<string, Set<string>>();
  private closed = false;
  readonly stats: SpoolStats = {
    spooled: 0,
    delivered: 0,
    duplicatesSkipped: 0,
    failed: [],
    unreadableLines: 0,
    runIds: [],
    lost: [],
    failedForLostWrites: [],
  };
  private reportedUnreadable = false;
  /** Runs (as the spool names them) with lost writes → the descriptions, for their tag. */
  private readonly lostByRun = new Map<string, string[]>();
  /** Real run ids already given the lost-writes tag. */
  private readonly markedLost = new Set<string>();

  constructor(
    private readonly inner: TrackingStore,
    readonly spoolPath: string,
    options: SpoolingTrackingStoreOptions = {},
  ) {
    super();
    const parsed = SpoolingTrackingStoreOptionsSchema.safeParse(options);
    if (!parsed.success)
      throw new MlflowInvalidParameterError(
        `SpoolingTrackingStore options: ${z.prettifyError(parsed.error)}`,
        'INVALID_PARAMETER_VALUE',
      );
    this.options = parsed.data;
    this.journal = new SpoolJournal(spoolPath, {
      breakLock: this.options.breakLock,
      onLockBroken: (owner) =>
        this.event(
          `took over the lock of ${spoolPath} from process ${owner.pid}${owner.host ? ` on ${owner.host}` : ''} (--break-lock)`,
        ),
    });
  }

  /**
   * Opens the journal and says once if it held lines that are neither entries nor acks — and which
   * writes of which runs they lost: those runs are not closed FINISHED (see `deliver`).
   */
  private async openJournal(): Promise<void> {
    await this.journal.open();
    if (this.journal.skippedLines.length && !this.reportedUnreadable) {
      this.reportedUnreadable = true;
      this.stats.unreadableLines = this.journal.skippedLines.length;
      this.event(
        `${this.journal.skippedLines.length} line(s) of ${this.spoolPath} are damaged (neither a write nor an acknowledgement) and are skipped; they are kept in ${this.journal.unreadablePath}`,
      );
      for (const write of this.journal.lost) {
        const text = describeLostWrite(write);
        this.stats.lost.push(text);
        for (const runId of write.runIds) this.lostByRun.set(runId, [...(this.lostByRun.get(runId) ?? []), text]);
        this.event(
          `lost: ${text} — in a damaged line of ${this.spoolPath}, it cannot be delivered; ${write.runIds.length ? `the run is marked with the tag ${SPOOL_LOST_WRITES_TAG} and not closed FINISHED` : 'no run can be named'}`,
        );
      }
    }
  }

  /** The lost writes of a run (under any of its names: placeholder or real id). */
  private lostWritesOf(runId: string): string[] {
    const real = this.resolveRunId(runId);
    return [...this.lostByRun].flatMap(([id, texts]) =>
      id === runId || (real !== undefined && this.resolveRunId(id) === real) ? texts : [],
    );
  }

  /** Tags a run with its lost writes, once. */
  private async markLost(target: TrackingStore, realId: string, texts: string[]): Promise<void> {
    if (this.markedLost.has(realId) || !texts.length) return;
    await target.setTag(
      realId,
      SPOOL_LOST_WRITES_TAG,
      `${texts.length} write(s) lost in damaged lines of ${this.spoolPath} (kept in ${this.journal.unreadablePath}): ${texts.join('; ')}`,
    );
    this.markedLost.add(realId);
  }

  get location(): string {
    return this.inner.location;
  }

  /** Spooled writes not yet delivered. */
  get backlog(): number {
    return this.journal.pending.length;
  }

  /** The real id behind a placeholder once its run exists on the server; other ids as they are. */
  resolveRunId(runId: string): string | undefined {
    return isPendingRunId(runId) ? this.journal.realRunId(runId) : runId;
  }

  private event(line: string): void {
    this.options.onEvent?.(line);
  }

  private requireRealId(runId: string): string {
    const real = this.resolveRunId(runId);
    if (real) return real;
    const failed = this.journal.creationError(runId);
    if (failed)
      throw new MlflowInvalidParameterError(
        `run ${runId} was never created: the server refused its creation (${failed})`,
        'INVALID_PARAMETER_VALUE',
      );
    if (this.journal.creationLost(runId))
      throw new MlflowInvalidParameterError(
        `run ${runId} was never created: its creation was lost in a damaged line of ${this.spoolPath}`,
        'INVALID_PARAMETER_VALUE',
      );
    throw new MlflowUnavailableError(
      `run ${runId} is not created on ${this.inner.location} yet: the server was unreachable and its creation waits in the spool ${this.spoolPath}`,
      'UNAVAILABLE',
    );
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().then(
        (done) => {
          if (!done) this.schedule();
        },
        () => this.schedule(),
      );
    }, this.options.retryIntervalMs);
    this.timer.unref();
  }

  /** Points of `batch` the server already has (from a delivery whose ack is missing) are dropped. */
  private async undelivered(target: TrackingStore, runId: string, batch: Required<Batch>): Promise<Required<Batch>> {
    if (!batch.metrics.length) return batch;
    for (const key of new Set(batch.metrics.map((m) => m.key))) {
      const id = `${runId}\u0000${key}`;
      if (!this.delivered.has(id))
        this.delivered.set(id, new Set((await target.getMetricHistory(runId, key)).map(pointKey)));
    }
    const metrics = batch.metrics.filter((m) => !this.delivered.get(`${runId}\u0000${m.key}`)!.has(pointKey(m)));
    this.stats.duplicatesSkipped += batch.metrics.length - metrics.length;
    return { ...batch, metrics };
  }

  private remember(runId: string, metrics: Metric[]): void {
    for (const m of metrics) this.delivered.get(`${runId}\u0000${m.key}`)?.add(pointKey(m));
  }

  /** Sends one entry through `target` (the inner store, maybe bounded); returns the real run id for a createRun. */
  private async deliver(target: TrackingStore, entry: SpoolEntry): Promise<string | undefined> {
    switch (entry.op) {
      case 'createRun': {
        const parentRunId = entry.request.parentRunId ? this.requireRealId(entry.request.parentRunId) : undefined;
        const request = { ...entry.request, ...(parentRunId ? { parentRunId } : {}) };
        const existing = await findRunCreatedBy(target, request);
        return (existing ?? (await target.createRun(request))).info.runId;
      }
      case 'logBatch': {
        const runId = this.requireRealId(entry.runId);
        const batch = await this.undelivered(target, runId, batchFromSpool(entry.batch));
        try {
          await target.logBatch(runId, batch);
        } catch (error) {
          if (!(error instanceof MlflowParamConflictError) || !batch.params.length) throw error;
          // the conflicting param cannot be logged; the rest of the batch still can
          await target.logBatch(runId, { ...batch, params: [] });
          this.remember(runId, batch.metrics);
          throw error;
        }
        this.remember(runId, batch.metrics);
        return undefined;
      }
      case 'updateRun': {
        const runId = this.requireRealId(entry.request.runId);
        const lost = this.lostWritesOf(entry.request.runId);
        // a run missing some of its writes must not look complete
        const status = entry.request.status === 'FINISHED' && lost.length ? 'FAILED' : entry.request.status;
        await this.markLost(target, runId, lost);
        await target.updateRun({ ...entry.request, runId, status });
        if (status !== entry.request.status && !this.stats.failedForLostWrites.includes(runId))
          this.stats.failedForLostWrites.push(runId);
        return undefined;
      }
      case 'logArtifact':
        await target.logArtifact(this.requireRealId(entry.runId), entry.path, Buffer.from(entry.base64, 'base64'));
        return undefined;
      case 'logInputs':
        await target.logInputs(this.requireRealId(entry.runId), entry.datasets);
        return undefined;
    }
  }

  private touched(runId: string | undefined): void {
    if (runId && !isPendingRunId(runId) && !this.stats.runIds.includes(runId)) this.stats.runIds.push(runId);
  }

  /**
   * Replays the spool in order, each entry once; true when nothing is left. Stops at "no server",
   * and at `deadlineAt` (ms since the epoch) when given: a replay already under way is then not
   * waited for past that time, and this one's requests end by it.
   */
  flush(options: { deadlineAt?: number } = {}): Promise<boolean> {
    const { deadlineAt } = options;
    if (this.flushing && deadlineAt !== undefined) {
      const left = deadlineAt - Date.now();
      return Promise.race([
        this.flushing,
        new Promise<boolean>((r) => setTimeout(() => r(false), Math.max(0, left)).unref()),
      ]);
    }
    this.flushing ??= (async () => {
      await this.openJournal();
      this.delivered = new Map();
      const target = deadlineAt !== undefined && boundable(this.inner) ? this.inner.until(deadlineAt) : this.inner;
      try {
        while (this.journal.pending.length) {
          if (deadlineAt !== undefined && Date.now() >= deadlineAt) return false;
          const entry = this.journal.pending[0];
          try {
            const runId = await this.deliver(target, entry);
            this.touched(runId ?? ('runId' in entry ? this.resolveRunId(entry.runId) : undefined));
            if (entry.op === 'updateRun') this.touched(this.resolveRunId(entry.request.runId));
            await this.journal.ack(entry.seq, runId ? { runId } : {});
            this.stats.delivered++;
          } catch (error) {
            if (isDeliveryFailure(error)) return false;
            // wrong credentials or permissions: nothing is wrong with the entry; stop and keep it
            if (isAuthError(error)) throw error;
            const message = (error as Error).message;
            this.stats.failed.push({ seq: entry.seq, op: entry.op, error: message });
            this.event(`spool entry ${entry.seq} (${entry.op}) was refused by the server and is dropped: ${message}`);
            await this.journal.ack(entry.seq, { error: message });
          }
        }
        // runs with lost writes whose closing was not in the spool (still RUNNING, or closed before)
        for (const runId of this.lostByRun.keys()) {
          const real = this.resolveRunId(runId);
          if (real && !isPendingRunId(real)) await this.markLost(target, real, this.lostWritesOf(runId));
        }
        await this.journal.compact();
        return this.journal.pending.length === 0;
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  /** A write: straight to the server when nothing is spooled, else (or on "no server") into the spool. */
  private write(body: SpoolEntryBody, direct: (() => Promise<void>) | undefined): Promise<void> {
    const next = this.chain.then(async () => {
      await this.openJournal();
      if (this.journal.pending.length === 0 && direct) {
        try {
          await direct();
          return;
        } catch (error) {
          if (!isDeliveryFailure(error)) throw error;
          this.event(
            `tracking server unreachable (${(error as Error).message.split('\n')[0]}); spooling to ${this.spoolPath}`,
          );
        }
      }
      await this.journal.add(body);
      this.stats.spooled++;
      this.schedule();
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Placeholders whose real id is known are written as the real id, so the spool never depends on memory. */
  private known(runId: string): string {
    return this.resolveRunId(runId) ?? runId;
  }

  async createRun(request: CreateRunRequest): Promise<Run> {
    // a fixed start time lets a replay find the run if a first attempt did create it
    const fixed: CreateRunRequest = parseRequest(
      CreateRunRequestSchema,
      {
        ...request,
        startTime: request.startTime ?? Date.now(),
        ...(request.parentRunId ? { parentRunId: this.known(request.parentRunId) } : {}),
      },
      'createRun',
    );
    const placeholder = `${PLACEHOLDER}${randomUUID().replaceAll('-', '')}`;
    let created: Run | undefined;
    const parentPending = fixed.parentRunId !== undefined && isPendingRunId(fixed.parentRunId);
    await this.write(
      { op: 'createRun', placeholder, request: fixed },
      parentPending
        ? undefined
        : async () => {
            created = await this.inner.createRun(fixed);
          },
    );
    if (created) return created;
    this.event(
      `run '${fixed.runName ?? ''}' is queued as ${placeholder}: the tracking server assigns run ids and is unreachable; the real id replaces it when the spool ${this.spoolPath} is delivered`,
    );
    return {
      info: {
        runId: placeholder,
        runName: fixed.runName ?? '',
        experimentId: fixed.experimentId,
        userId: fixed.userId ?? '',
        status: 'RUNNING',
        startTime: fixed.startTime!,
        artifactUri: '',
        lifecycleStage: 'active',
      },
      data: {
        metrics: {},
        params: {},
        tags: {
          ...fixed.tags,
          ...(fixed.runName ? { [MLFLOW_TAGS.runName]: fixed.runName } : {}),
          ...(fixed.parentRunId ? { [MLFLOW_TAGS.parentRunId]: fixed.parentRunId } : {}),
        },
      },
      inputs: { datasetInputs: [] },
      outputs: { modelOutputs: [] },
    };
  }

  async logBatch(runId: string, batch: Batch): Promise<void> {
    const id = this.known(runId);
    if (isPendingRunId(id) && this.journal.creationError(id))
      throw new MlflowInvalidParameterError(
        `run ${id} was never created: ${this.journal.creationError(id)}`,
        'INVALID_PARAMETER_VALUE',
      );
    const spooled = batchToSpool(batch);
    return this.write(
      { op: 'logBatch', runId: id, batch: spooled },
      isPendingRunId(id) ? undefined : () => this.inner.logBatch(id, batch),
    );
  }

  async logInputs(runId: string, datasets: DatasetInputRequest[]): Promise<void> {
    const id = this.known(runId);
    const inputs = normalizeDatasetInputs(datasets);
    if (!inputs.length) return;
    return this.write(
      { op: 'logInputs', runId: id, datasets: inputs },
      isPendingRunId(id) ? undefined : () => this.inner.logInputs(id, inputs),
    );
  }

  async updateRun(request: UpdateRunRequest): Promise<void> {
    const fixed = parseRequest(UpdateRunRequestSchema, { ...request, runId: this.known(request.runId) }, 'updateRun');
    return this.write(
      { op: 'updateRun', request: fixed },
      isPendingRunId(fixed.runId) ? undefined : () => this.inner.updateRun(fixed),
    );
  }

  async logArtifact(runId: string, artifactPath: string, content: Uint8Array | string): Promise<void> {
    const id = this.known(runId);
    const bytes = Buffer.from(content);
    return this.write(
      { op: 'logArtifact', runId: id, path: artifactPath, base64: bytes.toString('base64') },
      isPendingRunId(id) ? undefined : () => this.inner.logArtifact(id, artifactPath, bytes),
    );
  }

  /**
   * A logged-model write: MLflow assigns model ids on the server, and a model's artifacts are
   * uploaded and finalized in one go, so these are not spooled. They go straight to the server when
   * nothing waits in the spool (after one replay of what does); otherwise — or when the server does not answer — they fail with
   * `MlflowUnavailableError` saying so, and the caller keeps the model in the run's artifacts
   * (`sync-runs` makes the logged model from them once everything is delivered).
   */
  private online<T>(what: string, runId: string | undefined, send: () => Promise<T>): Promise<T> {
    const next = this.chain.then(async () => {
      await this.openJournal();
      // a blip that spooled a write mid-training may be over: what waits goes first, then this
      if (this.journal.pending.length) await this.flush().catch(() => false);
      const id = runId === undefined ? undefined : this.known(runId);
      if (this.journal.pending.length || (id !== undefined && isPendingRunId(id)))
        throw new MlflowUnavailableError(
          `${what} needs the tracking server ${this.inner.location} and is not spooled; ${this.journal.pending.length} write(s) wait in the spool ${this.spoolPath} first`,
          'UNAVAILABLE',
        );
      return send();
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  createLoggedModel(request: CreateLoggedModelRequest): Promise<LoggedModel> {
    return this.online('creating a logged model', request.sourceRunId, () =>
      this.inner.createLoggedModel({
        ...request,
        ...(request.sourceRunId ? { sourceRunId: this.known(request.sourceRunId) } : {}),
      }),
    );
  }

  finalizeLoggedModel(modelId: string, status: Exclude<LoggedModelStatus, 'PENDING'>): Promise<LoggedModel> {
    return this.online(`finalizing logged model ${modelId}`, undefined, () =>
      this.inner.finalizeLoggedModel(modelId, status),
    );
  }

  setLoggedModelTags(modelId: string, tags: Record<string, string>): Promise<void> {
    return this.online(`tagging logged model ${modelId}`, undefined, () =>
      this.inner.setLoggedModelTags(modelId, tags),
    );
  }

  logLoggedModelParams(modelId: string, params: Record<string, string>): Promise<void> {
    return this.online(`logging params of logged model ${modelId}`, undefined, () =>
      this.inner.logLoggedModelParams(modelId, params),
    );
  }

  logOutputs(runId: string, outputs: ModelOutput[]): Promise<void> {
    return this.online(`linking logged models to run ${runId}`, runId, () =>
      this.inner.logOutputs(this.known(runId), outputs),
    );
  }

  logLoggedModelArtifact(modelId: string, path: string, content: Uint8Array | string): Promise<void> {
    return this.online(`uploading ${path} of logged model ${modelId}`, undefined, () =>
      this.inner.logLoggedModelArtifact(modelId, path, content),
    );
  }

  getLoggedModel(modelId: string): Promise<LoggedModel> {
    return this.inner.getLoggedModel(modelId);
  }

  searchLoggedModels(request: SearchLoggedModelsRequest): Promise<SearchLoggedModelsResult> {
    return this.inner.searchLoggedModels(request);
  }

  listLoggedModelArtifacts(modelId: string, path?: string): Promise<ArtifactInfo[]> {
    return this.inner.listLoggedModelArtifacts(modelId, path);
  }

  downloadLoggedModelArtifact(modelId: string, path: string): Promise<Buffer> {
    return this.inner.downloadLoggedModelArtifact(modelId, path);
  }

  getExperimentByName(name: string): Promise<Experiment | undefined> {
    return this.inner.getExperimentByName(name);
  }

  createExperiment(name: string, tags?: Record<string, string>): Promise<string> {
    return this.inner.createExperiment(name, tags);
  }

  getOrCreateExperiment(name: string, tags?: Record<string, string>): Promise<string> {
    return this.inner.getOrCreateExperiment(name, tags);
  }

  getExperiment(experimentId: string): Promise<Experiment> {
    return this.inner.getExperiment(experimentId);
  }

  async getRun(runId: string): Promise<Run> {
    return this.inner.getRun(this.requireRealId(runId));
  }

  searchRuns(request: SearchRunsRequest): Promise<SearchRunsResult> {
    return this.inner.searchRuns(request);
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    return this.inner.getMetricHistory(this.requireRealId(runId), key);
  }

  async listArtifacts(runId: string, path?: string): Promise<ArtifactInfo[]> {
    return this.inner.listArtifacts(this.requireRealId(runId), path);
  }

  async downloadArtifact(runId: string, path: string): Promise<Buffer> {
    return this.inner.downloadArtifact(this.requireRealId(runId), path);
  }

  /** Stops the replay timer and gives the spool's lock back; the file keeps whatever is still owed. */
  async release(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing?.catch(() => undefined);
    await this.journal.release();
  }

  /**
   * Waits for queued writes, tries one last replay (unless `flush: false`, e.g. after a
   * `--sync-timeout-s` ran out), releases the spool and closes the inner store.
   */
  async close(options: { flush?: boolean } = {}): Promise<void> {
    await this.chain;
    if (this.backlog && options.flush !== false) await this.flush().catch(() => false);
    await this.release();
    await this.inner.close();
  }
}

/** Replays a spool left by an earlier process into `store`, exactly once; says what it delivered. */
export async function replaySpool(
  spoolPath: string,
  store: TrackingStore,
  options: SpoolingTrackingStoreOptions & { deadlineAt?: number } = {},
): Promise<SpoolStats & { complete: boolean; remaining: number }> {
  const { deadlineAt, ...rest } = options;
  const spooling = new SpoolingTrackingStore(store, spoolPath, rest);
  try {
    const complete = await spooling.flush({ deadlineAt });
    return { ...spooling.stats, complete, remaining: spooling.backlog };
  } finally {
    await spooling.release();
  }
}
