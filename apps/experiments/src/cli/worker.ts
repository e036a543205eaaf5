/**
 * `worker`: run sweep cells from the queue on this machine, until stopped (Ctrl-C finishes the
 * current cells first). Any machine that sees the same dataset root and tracking URI, and has the
 * same code checked out, can run one; credentials for the tracking server come from this
 * machine's environment (`MLFLOW_TRACKING_USERNAME` / `_PASSWORD` / `_TOKEN`, …), never from the queue.
 */
import { Command } from 'commander';
import { addEngineOptions, positiveInt, engineFromOptions, type EngineOptions } from './common-options';
import { addTrackingTimeoutOption } from './tracking-options';
import { createLogger } from './logger';
import { startCellWorker } from '../queue/cell-worker';
import { REDIS_TIMEOUT_S } from '../queue/cell-queue';

interface WorkerOptions extends EngineOptions {
  redis: string;
  concurrency: number;
  featureCache: string;
  trackingUri?: string;
  lockMs: number;
  trackingTimeoutS: number;
  redisTimeoutS: number;
}

export function workerCommand(): Command {
  const command = new Command('worker')
    .description('run sweep cells from the queue (BullMQ on Redis) until stopped')
    .option('--redis <url>', 'Redis URL', process.env.CFA_REDIS_URL ?? 'redis://127.0.0.1:6379')
    .option('--concurrency <n>', 'cells run at once on this worker', positiveInt, 1)
    .option('--feature-cache <dir>', 'backbone features cache (safe to share between workers)', '.cache/embeddings')
    .option(
      '--tracking-uri <uri>',
      "override the tracking URI the jobs carry (e.g. this machine's mount of a shared mlruns)",
    )
    .option(
      '--lock-ms <ms>',
      "stalled-job detection: a dead worker's cell is retried after this long",
      positiveInt,
      30_000,
    )
    .option(
      '--redis-timeout-s <s>',
      'how long Redis may take to answer at the start; later outages are waited out (one line per retry)',
      positiveInt,
      REDIS_TIMEOUT_S,
    );
  addTrackingTimeoutOption(command);
  addEngineOptions(command);
  return command.action(async (options: WorkerOptions) => {
    const log = createLogger();
    const engine = await engineFromOptions(options, log);
    const worker = await startCellWorker({
      redisUrl: options.redis,
      concurrency: options.concurrency,
      engine,
      featureCache: options.featureCache,
      trackingUri: options.trackingUri,
      lockDurationMs: options.lockMs,
      trackingTimeoutS: options.trackingTimeoutS,
      redisTimeoutS: options.redisTimeoutS,
      log: log.info,
    });
    log.info(`worker ready on ${options.redis} (concurrency ${options.concurrency}); Ctrl-C to stop`);
    const stop = async () => {
      log.info('stopping: finishing the current cell(s)');
      await worker.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
