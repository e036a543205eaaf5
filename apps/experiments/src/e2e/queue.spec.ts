/**
 * Sweeps on BullMQ + a real redis-server, with real worker processes: the same numbers and MLflow
 * structure as the local executor; a worker killed mid-cell, Redis restarting and the enqueuer
 * killed, all within one sweep that still completes with exactly one FINISHED run per cell; a cell
 * that fails for a real reason fails once.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectEngine } from '@cfa/tensor-runtime';
import { DiskEmbeddingCache } from '@cfa/method-kit';
import { FileTrackingStore, type Run, searchAllRuns } from '@cfa/tracking';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CELL_QUEUE, redisConnection } from '../queue/cell-queue';
import { loadSweep } from '../sweep/load-sweep';
import { runSweepLocally } from '../sweep/run-sweep-local';
import { openSweepParent } from '../sweep/sweep-runs';
import { type CliProcess, runCli, startCli, waitFor } from '../testing/cli-process';
import { runCfaInProcess } from '../testing/run-in-process';
import { redisAvailable, startTestRedis, type TestRedis } from '../testing/redis-server';
import { TINY_BASE, tinyDataset } from '../testing/tiny-dataset';

const available = redisAvailable();
if (!available)
  process.stderr.write(
    '[experiments] queue tests skipped: redis-server is not on PATH (apt-get install redis-server)\n',
  );

describe.skipIf(!available)('queue executor (BullMQ on a real redis-server, real worker processes)', () => {
  let redis: TestRedis;
  let dataRoot: string;
  let dir: string;
  const workers: CliProcess[] = [];
  const startWorker = () => {
    const w = startCli(['worker', '--redis', redis.url, '--lock-ms', '6000', '--feature-cache', join(dir, 'cache')]);
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    redis = await startTestRedis();
    dataRoot = await tinyDataset();
    dir = await mkdtemp(join(tmpdir(), 'queue-'));
  }, 60_000);
  afterAll(async () => {
    for (const w of workers) w.kill9();
    await redis?.stop();
  });

  async function sweepFile(name: string, extra: object): Promise<string> {
    const file = join(dir, `${name}.yaml`);
    await writeFile(
      file,
      stringify({
        name,
        reproduces: 'Table 6 (queue test)',
        dataRoot,
        categories: ['weave', 'disc'],
        heatmaps: 0,
        base: TINY_BASE,
        ...extra,
      }),
    );
    return file;
  }

  async function children(mlruns: string, name: string): Promise<Run[]> {
    const store = new FileTrackingStore(mlruns);
    const exp = await store.getExperimentByName(name);
    return exp
      ? (await searchAllRuns(store, { experimentIds: [exp.experimentId] })).filter(
          (r) => r.data.tags['mlflow.parentRunId'],
        )
      : [];
  }

  it('gives the same metrics per cell (to 1e-6) and the same MLflow structure as the local executor', async () => {
    const file = await sweepFile('queue-same', {
      axes: [{ zip: { 'descriptor.gammaD': [1, 2], 'memoryBank.gammaC': [1, 2] } }],
    });
    // local, in this process, one thread like the workers
    const localRuns = join(dir, 'mlruns-local');
    const store = new FileTrackingStore(localRuns);
    const loaded = await loadSweep(file);
    const parent = await openSweepParent(store, loaded);
    const engine = await selectEngine({ requested: 'auto', tfBackend: 'wasm', threads: 1 });
    await runSweepLocally({
      store,
      loaded,
      parent,
      engine,
      cache: new DiskEmbeddingCache(join(dir, 'cache-local')),
      outRoot: join(dir, 'out-local'),
      log: () => undefined,
    });
    // queue, two workers
    startWorker();
    startWorker();
    const queueRuns = join(dir, 'mlruns-queue');
    const result = await runCli([
      'sweep',
      file,
      '--executor',
      'queue',
      '--redis',
      redis.url,
      '--tracking-uri',
      queueRuns,
      '--out',
      join(dir, 'out-queue'),
    ]);
    expect(result.code, result.output).toBe(0);
    const local = await children(localRuns, 'queue-same');
    const all = await children(queueRuns, 'queue-same');
    // on a loaded machine a worker can miss its lock renewal and the cell is redone elsewhere: the
    // attempt that lost the job is closed KILLED as superseded, never a second FINISHED run
    const queued = all.filter((r) => r.info.status === 'FINISHED');
    expect(queued).toHaveLength(4);
    expect(new Set(queued.map((r) => r.data.tags['cfa.cell.key'])).size).toBe(4);
    for (const other of all.filter((r) => r.info.status !== 'FINISHED'))
      expect(other.data.tags['cfa.error']).toMatch(/superseded|stopped/);
    // every FINISHED run names the worker that ran it (host:pid), and that is one of this test's workers
    for (const run of queued) {
      const tag = run.data.tags['cfa.worker'];
      expect(tag, `cfa.worker of ${run.info.runName}`).toMatch(/^[^:]+:\d+$/);
      const pid = Number(tag.split(':')[1]);
      expect(
        workers.some((w) => w.child.pid && isAncestor(w.child.pid, pid)),
        `${tag} is a worker this test started`,
      ).toBe(true);
    }
    // the comparison below covers every cell: the local executor ran all four
    expect(local.filter((r) => r.info.status === 'FINISHED')).toHaveLength(4);
    for (const run of local) {
      const twin = queued.find((q) => q.data.tags['cfa.cell.key'] === run.data.tags['cfa.cell.key'])!;
      expect(twin.info.status).toBe('FINISHED');
      expect(twin.info.runName).toBe(run.info.runName);
      expect(twin.data.params).toEqual(run.data.params);
      for (const key of ['image_auroc', 'pixel_auroc', 'pixel_aupro', 'radius']) {
        expect(Math.abs(twin.data.metrics[key].value - run.data.metrics[key].value), key).toBeLessThanOrEqual(1e-6);
      }
    }
  }, 400_000);

  it('survives a worker killed mid-cell, a Redis restart and the enqueuer killed: exactly one FINISHED run per cell', async () => {
    const file = await sweepFile('queue-faults', {
      base: { ...TINY_BASE, training: { ...TINY_BASE.training, epochs: 40 } },
      axes: [{ grid: { 'loss.terms': ['att', 'att+rep'] } }],
    });
    const mlruns = join(dir, 'mlruns-faults');
    const args = [
      'sweep',
      file,
      '--executor',
      'queue',
      '--redis',
      redis.url,
      '--tracking-uri',
      mlruns,
      '--out',
      join(dir, 'out-faults'),
    ];
    const enqueuer = startCli(args);
    const workerOf = (run: Run) =>
      workers.find(
        (w) =>
          w.child.exitCode === null &&
          w.child.pid &&
          isAncestor(w.child.pid, Number(run.data.tags['cfa.worker'].split(':')[1])),
      );
    // A run seen RUNNING may finish before the kill lands (a tiny cell takes about a second): pause
    // its worker, read the run again, and kill only a worker whose run is still RUNNING while paused.
    const { running, victimProcess } = await waitFor(
      'a cell still running on a paused worker',
      async () => {
        const seen = (await children(mlruns, 'queue-faults')).find(
          (r) => r.info.status === 'RUNNING' && r.data.tags['cfa.worker'],
        );
        const worker = seen && workerOf(seen);
        if (!seen || !worker) return undefined;
        worker.pause();
        const now = (await children(mlruns, 'queue-faults')).find((r) => r.info.runId === seen.info.runId);
        if (now?.info.status === 'RUNNING') return { running: now, victimProcess: worker };
        worker.resume();
        return undefined;
      },
      180_000,
      100,
    );
    // 1. the enqueuer dies
    enqueuer.kill9();
    await enqueuer.exited;
    // 2. the worker running that cell dies
    victimProcess!.kill9();
    startWorker();
    // 3. Redis restarts
    await redis.restart();
    // the enqueuer comes back: re-attaches, adds no job
    const again = await runCli(args);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toMatch(/0 enqueued/);
    const queue = new Queue(CELL_QUEUE, { connection: redisConnection(redis.url) });
    const jobs = (await queue.getJobs(['completed', 'failed', 'waiting', 'active', 'delayed'])).filter(
      (j) => j.data.sweepName === 'queue-faults',
    );
    expect(jobs).toHaveLength(4);
    await queue.close();
    const runs = await children(mlruns, 'queue-faults');
    const killed = runs.find((r) => r.info.runId === running.info.runId)!;
    expect(['KILLED', 'FAILED']).toContain(killed.info.status);
    expect(killed.data.tags['cfa.error']).toMatch(/worker running this attempt stopped/);
    const finished = runs.filter((r) => r.info.status === 'FINISHED').map((r) => r.data.tags['cfa.cell.key']);
    expect(finished).toHaveLength(4);
    expect(new Set(finished).size).toBe(4);
    expect(runs.filter((r) => r.info.status === 'RUNNING')).toEqual([]);
  }, 500_000);

  it('a cell that fails for a real reason fails once, is not retried, and the sweep reports it', async () => {
    const bad = join(dir, 'bad.pth');
    await writeFile(bad, 'garbage');
    const file = await sweepFile('queue-fail', {
      categories: ['weave'],
      axes: [{ grid: { 'backbone.weights': [bad] } }],
    });
    const mlruns = join(dir, 'mlruns-fail');
    const result = await runCli([
      'sweep',
      file,
      '--executor',
      'queue',
      '--redis',
      redis.url,
      '--tracking-uri',
      mlruns,
      '--out',
      join(dir, 'out-fail'),
    ]);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/1 cell\(s\) failed/);
    const runs = await children(mlruns, 'queue-fail');
    expect(runs).toHaveLength(1);
    expect(runs[0].info.status).toBe('FAILED');
    expect(runs[0].data.tags['cfa.error']).toMatch(/bad\.pth: not a torch checkpoint: neither the zip format/);
  }, 300_000);
  it('Redis stopping mid-sweep ends the wait after --redis-timeout-s: the error names Redis and its URL, the parent run is closed FAILED with the reason', async () => {
    const own = await startTestRedis(); // its own: stopping it leaves the other tests' Redis alone
    const file = await sweepFile('queue-redis-gone', { categories: ['weave'] });
    const mlruns = join(dir, 'mlruns-redis-gone');
    // db 5: no worker of this suite listens there, so the job waits until Redis goes
    const url = `${own.url}/5`;
    const sweep = runCfaInProcess([
      'sweep',
      file,
      '--executor',
      'queue',
      '--redis',
      url,
      '--redis-timeout-s',
      '2',
      '--tracking-uri',
      mlruns,
      '--out',
      join(dir, 'out-redis-gone'),
    ]);
    await waitFor(
      'the job on the queue',
      async () =>
        execFileSync('redis-cli', ['-p', String(own.port), '-n', '5', 'keys', '*:wait'], { encoding: 'utf8' }).trim() ||
        undefined,
      60_000,
      100,
    );
    await own.stop();
    const result = await sweep;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`error: Redis at ${url.replaceAll('/', '\\/')} did not answer within 2 s`),
    );
    expect(result.stderr).toMatch(/closed FAILED/);
    const store = new FileTrackingStore(mlruns);
    const exp = await store.getExperimentByName('queue-redis-gone');
    const runs = await searchAllRuns(store, { experimentIds: [exp!.experimentId] });
    expect(runs.map((r) => r.info.status)).toEqual(['FAILED']);
    expect(runs[0].data.tags['cfa.error']).toMatch(/the sweep stopped: Redis at .* did not answer/);
  }, 120_000);
});

/** Whether `pid` is `root` or one of its descendants (tsx runs the worker in a child node). */
function isAncestor(root: number, pid: number): boolean {
  for (let p = pid, guard = 0; p > 1 && guard < 20; guard++) {
    if (p === root) return true;
    try {
      p = Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(p)], { encoding: 'utf8' }).trim());
    } catch {
      return false;
    }
  }
  return false;
}
