/**
 * A worker whose code differs from the sweep's refuses the job for good, saying so — its numbers
 * would not be the sweep's. Needs `redis-server` (skipped with the reason otherwise); no cell runs.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectEngine } from '@cfa/tensor-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSweep } from '../sweep/load-sweep';
import { waitFor } from '../testing/cli-process';
import { redisAvailable, startTestRedis, type TestRedis } from '../testing/redis-server';
import { TINY_BASE, tinyDataset } from '../testing/tiny-dataset';
import { codeVersion } from '../tracking/code-version';
import { cellJobId, cellQueue } from './cell-queue';
import { startCellWorker } from './cell-worker';
import { writeSweepFile } from '../testing/sweep-file';

const available = redisAvailable();
if (!available) process.stderr.write('[experiments] worker code check skipped: redis-server is not on PATH\n');

describe.skipIf(!available)('a worker with other code than the sweep', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => redis?.stop());

  it('fails the job for good, naming both code hashes, and runs nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'worker-code-'));
    const file = await writeSweepFile(dir, {
      name: 'code-check',
      reproduces: 'test',
      dataRoot: await tinyDataset(['weave']),
      categories: ['weave'],
      base: TINY_BASE,
      axes: [{ grid: { 'loss.terms': ['att'] } }],
    });
    const [cell] = (await loadSweep(file)).cells;
    const queue = cellQueue(redis.url);
    const id = cellJobId('sweepkey', cell.key);
    await queue.add(
      cell.name,
      {
        sweepName: 'code-check',
        sweepKey: 'sweepkey',
        experimentId: '1',
        parentRunId: 'a'.repeat(32),
        trackingUri: join(dir, 'mlruns'),
        codeHash: 'not-this-code000',
        resume: 'same-code',
        cell,
      },
      { jobId: id },
    );
    const lines: string[] = [];
    const worker = await startCellWorker({
      redisUrl: redis.url,
      concurrency: 1,
      engine: await selectEngine({ requested: 'auto', tfBackend: 'wasm', threads: 1 }),
      featureCache: join(dir, 'cache'),
      log: (line) => lines.push(line),
    });
    try {
      const job = await waitFor(
        'the job to fail',
        async () => {
          // the job as it is once failed (an object fetched before can predate its failure)
          const j = await queue.getJob(id);
          return (await j?.getState()) === 'failed' ? queue.getJob(id) : undefined;
        },
        60_000,
        100,
      );
      expect(job.failedReason).toMatch(
        new RegExp(
          `runs other code \\(hash ${(await codeVersion()).hash}\\) than the sweep that enqueued it \\(not-this-code000\\)`,
        ),
      );
      // UnrecoverableError: one attempt, no retry
      expect(job.attemptsMade).toBe(1);
      expect(lines.some((l) => l.includes(`${cell.name} (job`))).toBe(false);
    } finally {
      await worker.close();
      await queue.close();
    }
  }, 120_000);
});
