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

/** Parses redis://host:port/db into BullMQ connection options (ioredis). */
export function redisConnection(url: string): ConnectionOptions {
  const u = new URL(url);
  if (u.protocol !== 'redis:') throw new Error(`--redis must be a redis://host:port URL, got '${url}'`);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    // workers block on Redis; ioredis must retry forever so a Redis restart is ridden out
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times: number) => Math.min(200 * times, 2_000),
  };
}

export function cellQueue(redisUrl: string): Queue<CellJobData, CellJobResult> {
  return new Queue<CellJobData, CellJobResult>(CELL_QUEUE, {
    connection: redisConnection(redisUrl),
    defaultJobOptions: {
      attempts: JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: 2_000 },
      removeOnComplete: false,
      removeOnFail: false,
    },
  });
}
