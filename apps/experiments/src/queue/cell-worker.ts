/**
 * A queue worker: takes cell jobs and runs each as `runTrackedCell` does locally, so the MLflow
 * runs are the same. A cell whose run already FINISHED (with the sweep's code, unless the sweep
 * said `--resume any-code`) is skipped; a RUNNING run left by a worker that died is closed as
 * KILLED with the reason before the cell runs again. A worker whose code differs from the
 * enqueuer's (another code hash) refuses the job for good, saying so: its numbers would not be the
 * sweep's. A cell that fails for a real reason (bad weights, NaN loss) is failed for good (no
 * retry), and so is one the tracking server refuses (401/403: this worker's credentials);
 * infrastructure failures (tracking unreachable) are retried by BullMQ with backoff, a bounded
 * number of times. Credentials come from the worker's own environment (`MLFLOW_TRACKING_*`).
 *
 * @example
 * ```ts
 * const worker = await startCellWorker({ redisUrl: 'redis://127.0.0.1:6379', concurrency: 1, engine });
 * ```
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError, Worker } from 'bullmq';
import type { EngineSelection } from '@cfa/tensor-runtime';
import { DiskEmbeddingCache } from '@cfa/method-kit';
import { createTrackingStore, isAuthError, systemMetricsEnabled } from '@cfa/tracking';
import {
  CFA_TAGS,
  CellSupersededError,
  closeRunKilled,
  findCellRuns,
  runClosedByAnotherAttempt,
  runTrackedCell,
} from '../tracking/tracked-cell';
import { codeVersion } from '../tracking/code-version';
import {
  CELL_QUEUE,
  type CellJobData,
  type CellJobResult,
  isRedisConnectionError,
  REDIS_TIMEOUT_S,
  redisConnection,
  redisLabel,
  withinRedisDeadline,
} from './cell-queue';

/** How long an attempt waits for another attempt of its cell to let go of the cell's folder. */
export const ATTEMPT_FOLDER_WAIT_MS = 6 * 60 * 60 * 1000;

export interface CellWorkerOptions {
  redisUrl: string;
  concurrency: number;
  engine: EngineSelection;
  featureCache?: string;
  outRoot?: string;
  /** Overrides the tracking URI a job carries (e.g. a different mount path on this machine). */
  trackingUri?: string;
  /** Stalled-job detection: a job whose worker stops renewing its lock for this long is retried elsewhere. */
  lockDurationMs?: number;
  /** Deadline of each tracking request, in seconds. */
  trackingTimeoutS?: number;
  /** How long Redis may take to answer at the start (default 10 s); later outages are waited out, one line per retry. */
  redisTimeoutS?: number;
  log: (line: string) => void;
}

export async function startCellWorker(options: CellWorkerOptions): Promise<Worker<CellJobData, CellJobResult>> {
  const name = `${hostname()}:${process.pid}`;
  const cache = new DiskEmbeddingCache(options.featureCache ?? join('.cache', 'embeddings'));
  const lockDuration = options.lockDurationMs ?? 30_000;
  const code = await codeVersion();
  const deadlineMs = (options.trackingTimeoutS ?? 60) * 1000;
  // ioredis emits an error per failed connection attempt, on each of the worker's connections:
  // one line per retry instead, saying what failed and when the next try is
  let lastConnectionError: string | undefined;
  let reportedAttempt = 0;
  const onRetry = (attempt: number, delayMs: number) => {
    if (attempt <= reportedAttempt) return;
    reportedAttempt = attempt;
    options.log(
      `${name}: Redis at ${redisLabel(options.redisUrl)} not reachable (${lastConnectionError ?? 'connection lost'}); retry ${attempt} in ${delayMs / 1000} s`,
    );
  };
  const worker = new Worker<CellJobData, CellJobResult>(
    CELL_QUEUE,
    async (job, token) => {
      const { cell, parentRunId, experimentId } = job.data;
      if (job.data.codeHash && job.data.codeHash !== code.hash)
        throw new UnrecoverableError(
          `${cell.name}: worker ${name} runs other code (hash ${code.hash}) than the sweep that enqueued it (${job.data.codeHash}); update this worker's checkout, or its numbers would not be the sweep's`,
        );
      const store = createTrackingStore({
        uri: options.trackingUri ?? job.data.trackingUri,
        rest: { deadlineMs, requestTimeoutMs: deadlineMs },
      });
      try {
        const runs = await findCellRuns(store, experimentId, parentRunId, cell.key);
        const sameCode = (tags: Record<string, string>) =>
          job.data.resume === 'any-code' || !job.data.codeHash || tags[CFA_TAGS.codeHash] === job.data.codeHash;
        const done = runs.find((r) => r.info.status === 'FINISHED' && sameCode(r.data.tags));
        if (done) return { runId: done.info.runId, status: 'SKIPPED', worker: name };
        for (const orphan of runs.filter((r) => r.info.status === 'RUNNING')) {
          await closeRunKilled(
            store,
            orphan.info.runId,
            `killed: the worker running this attempt stopped (stalled job ${job.id}); retried as attempt ${job.attemptsMade + 1}`,
          );
        }
        options.log(`${name}: ${cell.name} (job ${job.id}, attempt ${job.attemptsMade + 1})`);
        const outcome = await runTrackedCell({
          store,
          experimentId,
          parentRunId,
          sweepName: job.data.sweepName,
          cell,
          engine: options.engine,
          // MLflow's own switch, as its clients read it
          systemMetrics: systemMetricsEnabled(),
          cache,
          outDir: join(options.outRoot ?? join('runs', job.data.sweepName), cell.key),
          // another attempt of this cell still writing its folder (a stalled worker that came
          // back): wait for it rather than fail the cell for good; a dead one's lock is taken over
          outLockWaitMs: ATTEMPT_FOLDER_WAIT_MS,
          extraTags: { [CFA_TAGS.worker]: name, [CFA_TAGS.attempt]: String(job.attemptsMade + 1) },
          log: options.log,
          onProgress: (e) =>
            void job.updateProgress({ phase: e.phase, done: e.done, total: e.total }).catch(() => undefined),
          // A lock this worker no longer holds means stalled-job detection handed the cell to
          // another worker (Redis was away, or this event loop was blocked past the lock time).
          ownershipLost: async (runId) =>
            (await job.extendLock(token ?? '', lockDuration).catch(() => 0)) === 1
              ? runClosedByAnotherAttempt(store, runId)
              : `worker ${name} lost the lock of job ${job.id}; the cell was handed to another worker`,
        });
        // superseded: the attempt that owns the job now reports the cell; this one only stops
        if (outcome.error instanceof CellSupersededError) throw outcome.error;
        if (outcome.error) throw new UnrecoverableError(`${cell.name}: ${outcome.error.message}`);
        return { runId: outcome.runId, status: 'FINISHED', worker: name };
      } catch (error) {
        // this worker's credentials: retrying on the same worker cannot help
        if (isAuthError(error)) throw new UnrecoverableError(`${cell.name}: ${(error as Error).message}`);
        throw error;
      } finally {
        await store.close();
      }
    },
    {
      connection: redisConnection(options.redisUrl, { onRetry }),
      concurrency: options.concurrency,
      lockDuration,
      stalledInterval: Math.max(1_000, Math.floor(lockDuration / 2)),
      maxStalledCount: 2,
    },
  );
  worker.on('failed', (job, error) => options.log(`${name}: job ${job?.id} failed: ${error.message}`));
  worker.on('error', (error) => {
    if (isRedisConnectionError(error)) lastConnectionError = error.message;
    else options.log(`${name}: ${error.message}`);
  });
  worker.on('ready', () => {
    if (reportedAttempt) options.log(`${name}: Redis at ${redisLabel(options.redisUrl)} answers again`);
    reportedAttempt = 0;
  });
  try {
    await withinRedisDeadline(
      options.redisUrl,
      options.redisTimeoutS ?? REDIS_TIMEOUT_S,
      worker.waitUntilReady(),
      () => lastConnectionError,
    );
  } catch (error) {
    await worker.close(true).catch(() => undefined);
    throw error;
  }
  return worker;
}
