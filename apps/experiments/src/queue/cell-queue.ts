/**
 * Sweep cells as jobs on BullMQ (Redis): what a job carries, and the queue settings shared by the
 * enqueuer and the workers. BullMQ is the engine — retries with backoff, stalled-job detection
 * when a worker dies, reconnection to Redis; we write no scheduler.
 *
 * Job id = `<sweep key>-<cell key>`: deterministic, so enqueueing a sweep twice (or after the
 * enqueuer restarts) adds nothing. The sweep key is part of it because two sweeps can share a cell
 * (same config, same numbers) yet each logs it under its own parent run.
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import type { SweepCell } from '../sweep/expand-sweep';

export const CELL_QUEUE = 'cfa-cells';

export interface CellJobData {
  sweepName: string;
  sweepKey: string;
  experimentId: string;
  parentRunId: string;
  /** Where the worker logs: the enqueuer's tracking URI (a shared folder or a server), never with credentials: workers read theirs from their own environment. */
  trackingUri?: string;
  /** The code hash of the enqueuer: a worker running other code refuses the job. */
  codeHash?: string;
  resume?: 'same-code' | 'any-code';
  cell: SweepCell;
}

export interface CellJobResult {
  runId: string;
  status: 'FINISHED' | 'SKIPPED';
  worker: string;
}

export const JOB_ATTEMPTS = 3;

export function cellJobId(sweepKey: string, cellKey: string): string {
  return `${sweepKey}-${cellKey}`;
}

/** How long a sweep or a worker waits for Redis to answer (`--redis-timeout-s`) before it says so and stops. */
export const REDIS_TIMEOUT_S = 10;

/** Redis did not answer within the deadline: names Redis, the URL (without its password) and what to do. */
export class RedisUnreachableError extends Error {
  override readonly name = 'RedisUnreachableError';
}

/** The URL as it may be printed: no password. */
export function redisLabel(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//');
}

/** Connection retries back off: 0.5 s, 1 s, 2 s, 4 s, then every 5 s (a restarting Redis is back within seconds). */
export function redisRetryDelayMs(attempt: number): number {
  return Math.min(500 * 2 ** Math.max(0, attempt - 1), 5_000);
}

/**
 * Parses redis://host:port/db into BullMQ connection options (ioredis). `onRetry` hears of every
 * reconnection attempt with its delay, so a caller prints one line per retry instead of ioredis's
 * raw error events.
 */
export function redisConnection(
  url: string,
  options: { onRetry?: (attempt: number, delayMs: number) => void } = {},
): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--redis must be a redis://host:port URL, got '${redisLabel(url)}'`);
  }
  if (u.protocol !== 'redis:') throw new Error(`--redis must be a redis://host:port URL, got '${redisLabel(url)}'`);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    // workers block on Redis; ioredis must retry forever so a Redis restart is ridden out
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (attempt: number) => {
      const delay = redisRetryDelayMs(attempt);
      options.onRetry?.(attempt, delay);
      return delay;
    },
  };
}

/** Connection failures (ioredis's error events while it reconnects): reported per retry, not per event. */
export function isRedisConnectionError(error: Error): boolean {
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|Connection is closed/.test(error.message);
}

/**
 * `work` (Redis calls), given up after `timeoutS`: with the offline queue on, a call to a Redis that
 * is away waits for it forever, so every wait on Redis is bounded here.
 */
export async function withinRedisDeadline<T>(
  url: string,
  timeoutS: number,
  work: Promise<T>,
  lastError: () => string | undefined,
  what = 'answer',
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const why = lastError();
      reject(
        new RedisUnreachableError(
          `Redis at ${redisLabel(url)} did not ${what} within ${timeoutS} s${why ? ` (${why})` : ''}: start redis-server there, or check --redis / CFA_REDIS_URL (raise --redis-timeout-s for a slow one)`,
        ),
      );
    }, timeoutS * 1000);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function cellQueue(
  redisUrl: string,
  options: { onRetry?: (attempt: number, delayMs: number) => void } = {},
): Queue<CellJobData, CellJobResult> {
  return new Queue<CellJobData, CellJobResult>(CELL_QUEUE, {
    connection: redisConnection(redisUrl, options),
    defaultJobOptions: {
      attempts: JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: 2_000 },
      removeOnComplete: false,
      removeOnFail: false,
    },
  });
}

/** A queue whose Redis answered, with the last connection error seen (for messages). */
export interface ConnectedQueue {
  queue: Queue<CellJobData, CellJobResult>;
  lastError(): string | undefined;
}

/**
 * The cell queue, once Redis has answered — or `RedisUnreachableError` after `timeoutS` (the queue
 * is closed then). Each reconnection attempt is one line through `log` (what failed, the next try).
 */
export async function connectCellQueue(
  redisUrl: string,
  options: { timeoutS: number; log: (line: string) => void },
): Promise<ConnectedQueue> {
  let last: string | undefined;
  const queue = cellQueue(redisUrl, {
    onRetry: (attempt, delay) =>
      options.log(
        `Redis at ${redisLabel(redisUrl)} not reachable (${last ?? 'connection lost'}); retry ${attempt} in ${delay / 1000} s`,
      ),
  });
  queue.on('error', (error) => {
    last = error.message;
  });
  try {
    await withinRedisDeadline(redisUrl, options.timeoutS, queue.waitUntilReady(), () => last);
  } catch (error) {
    await closeQueue(queue);
    throw error;
  }
  return { queue, lastError: () => last };
}

/**
 * Closes a queue without hanging on a Redis that is gone: BullMQ's close sends QUIT and waits for
 * the answer; after a second the connection is dropped instead, which also stops ioredis's
 * reconnection timer (the process can then end).
 */
export async function closeQueue(queue: Queue): Promise<void> {
  const closed = await Promise.race([
    queue.close().then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((r) => setTimeout(() => r(false), 1_000).unref()),
  ]);
  if (!closed) void queue.disconnect().catch(() => undefined);
}
