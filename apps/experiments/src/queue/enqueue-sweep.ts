/**
 * The enqueuer side of `--executor queue`: one job per missing cell (deterministic ids, so running
 * it again — or after the enqueuer was killed — re-attaches to the same jobs instead of adding
 * new ones), then a wait with a progress bar over cells until every job has completed or failed
 * for good. Jobs that vanished (a Redis restarted without persistence) are enqueued again; a cell
 * that failed in an earlier run of the sweep is retried.
 *
 * Every wait on Redis is bounded (`redisTimeoutS`): the queue is connected before the parent run
 * is opened (`connectCellQueue`), and a Redis that stops answering for that long mid-sweep ends
 * the wait with `RedisUnreachableError` (the jobs stay queued; running the sweep again re-attaches).
 */
import { createTrackingStore, redactUri, type TrackingStore } from '@cfa/tracking';
import { createPhaseProgress } from '../cli/logger';
import type { LoadedSweep } from '../sweep/load-sweep';
import { CFA_TAGS, closeRunKilled } from '../tracking/tracked-cell';
import { childRuns, finishedByCell, type SweepParent, sweepKey } from '../sweep/sweep-runs';
import {
  type CellJobData,
  type CellJobResult,
  cellJobId,
  closeQueue,
  type ConnectedQueue,
  isRedisConnectionError,
  redisLabel,
  REDIS_TIMEOUT_S,
  RedisUnreachableError,
  withinRedisDeadline,
} from './cell-queue';

export interface QueueSweepOptions {
  loaded: LoadedSweep;
  parent: SweepParent;
  redisUrl: string;
  /** The cell queue, connected (`connectCellQueue`); closed when the sweep's wait ends. */
  connected: ConnectedQueue;
  /** How long Redis may go without answering (default 10 s). */
  redisTimeoutS?: number;
  trackingUri?: string;
  /** Deadline of each tracking request, in seconds. */
  trackingTimeoutS?: number;
  pollMs?: number;
  log: (line: string) => void;
}

export interface QueueSweepOutcome {
  enqueued: number;
  skipped: number;
  failed: { cell: string; error: string }[];
}

export async function runSweepOnQueue(options: QueueSweepOptions): Promise<QueueSweepOutcome> {
  const { loaded, parent, log } = options;
  const key = sweepKey(loaded);
  const deadlineMs = (options.trackingTimeoutS ?? 60) * 1000;
  const store = createTrackingStore({ uri: options.trackingUri, rest: { deadlineMs, requestTimeoutMs: deadlineMs } });
  const { queue } = options.connected;
  const timeoutS = options.redisTimeoutS ?? REDIS_TIMEOUT_S;
  const redis = <T>(work: Promise<T>) =>
    withinRedisDeadline(options.redisUrl, timeoutS, work, options.connected.lastError);
  const progress = createPhaseProgress();
  try {
    const finished = finishedByCell(await childRuns(store, parent.experimentId, parent.parentRunId), parent);
    const todo = loaded.cells.filter((c) => !finished.has(c.key));
    const data = (cell: (typeof todo)[number]): CellJobData => ({
      sweepName: loaded.sweep.name,
      sweepKey: key,
      experimentId: parent.experimentId,
      parentRunId: parent.parentRunId,
      trackingUri: redactUri(options.trackingUri ?? store.location),
      codeHash: parent.codeHash,
      resume: parent.resume,
      cell,
    });
    let enqueued = 0,
      retried = 0,
      attached = 0;
    for (const cell of todo) {
      const id = cellJobId(key, cell.key);
      const job = await redis(queue.getJob(id));
      const state = job ? await redis(job.getState()) : undefined;
      if (!job) {
        await redis(queue.add(cell.name, data(cell), { jobId: id }));
        enqueued++;
      } else if (state === 'failed') {
        // failed for good in an earlier run of this sweep: this run tries it again
        await redis(job.retry('failed'));
        retried++;
      } else if (state === 'completed') {
        // completed, yet MLflow has no FINISHED run for it (deleted, or another store): redo
        await redis(job.remove());
        await redis(queue.add(cell.name, data(cell), { jobId: id }));
        enqueued++;
      } else {
        attached++;
      }
    }
    log(
      `queue: ${todo.length} cell(s) to run — ${enqueued} enqueued, ${attached} already queued, ${retried} retried; ${finished.size} already finished`,
    );
    const failed = new Map<string, string>();
    const completed = new Map<string, string | undefined>();
    let lastError = '';
    let answeredAt = Date.now();
    while (completed.size + failed.size < todo.length) {
      try {
        for (const cell of todo) {
          if (completed.has(cell.key) || failed.has(cell.key)) continue;
          const id = cellJobId(key, cell.key);
          const job = await redis(queue.getJob(id));
          if (!job) {
            // lost with a Redis that restarted empty: enqueue it again
            await redis(queue.add(cell.name, data(cell), { jobId: id }));
            log(`queue: job ${id} was gone, enqueued again`);
            continue;
          }
          // BullMQ's 'failed' is final: attempts exhausted, or an unrecoverable cell error
          const state = await redis(job.getState());
          if (state === 'completed') completed.set(cell.key, (job.returnvalue as CellJobResult | undefined)?.runId);
          else if (state === 'failed') failed.set(cell.key, job.failedReason ?? 'failed');
        }
        lastError = '';
        answeredAt = Date.now();
      } catch (error) {
        const away = error instanceof RedisUnreachableError || isRedisConnectionError(error as Error);
        if (!away) throw error;
        if (Date.now() - answeredAt >= timeoutS * 1000)
          throw error instanceof RedisUnreachableError
            ? error
            : new RedisUnreachableError(
                `Redis at ${redisLabel(options.redisUrl)} did not answer for ${timeoutS} s (${(error as Error).message})`,
              );
        const message = (error as Error).message;
        if (message !== lastError) log(`queue: ${message}; waiting for it`);
        lastError = message;
      }
      progress.update('cells', completed.size + failed.size, todo.length, `${failed.size} failed`);
      if (completed.size + failed.size < todo.length) await new Promise((r) => setTimeout(r, options.pollMs ?? 1_000));
    }
    progress.stop();
    const superseded = await closeSupersededRuns(store, parent, completed);
    if (superseded) log(`queue: ${superseded} run(s) of attempts that lost their job closed as KILLED`);
    return {
      enqueued,
      skipped: finished.size,
      failed: todo.filter((c) => failed.has(c.key)).map((c) => ({ cell: c.name, error: failed.get(c.key)! })),
    };
  } finally {
    progress.stop();
    await closeQueue(queue);
    await store.close();
  }
}

/**
 * The last guard of "one FINISHED run per cell": an attempt that lost its job lock at the very
 * end may still have marked its run FINISHED. The run the completed job names wins; any other
 * FINISHED run of that cell is closed KILLED with the reason. Returns how many were closed.
 */
async function closeSupersededRuns(
  store: TrackingStore,
  parent: SweepParent,
  owners: Map<string, string | undefined>,
): Promise<number> {
  let closed = 0;
  for (const run of await childRuns(store, parent.experimentId, parent.parentRunId)) {
    const owner = owners.get(run.data.tags[CFA_TAGS.cellKey]);
    if (run.info.status !== 'FINISHED' || !owner || owner === run.info.runId) continue;
    await closeRunKilled(
      store,
      run.info.runId,
      `superseded: run ${owner} of the completed job owns this cell`,
      run.info.endTime ?? Date.now(),
    );
    closed++;
  }
  return closed;
}
