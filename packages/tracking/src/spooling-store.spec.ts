import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type FakeMlflowServer, startFakeMlflowServer } from './fake-mlflow-server';
import { RestTrackingStore } from './rest-store';
import { replaySpool, SpoolingTrackingStore } from './spooling-store';

const open: FakeMlflowServer[] = [];
afterAll(async () => {
  for (const s of open) await s.close().catch(() => undefined);
});

async function fake(port?: number, root?: string): Promise<FakeMlflowServer> {
  const s = await startFakeMlflowServer({ port, root });
  open.push(s);
  return s;
}

const rest = (url: string) => new RestTrackingStore({ uri: url, retry: { attempts: 1 }, connectTimeoutMs: 300, requestTimeoutMs: 1000 });

describe('SpoolingTrackingStore', () => {
  it('server stopped mid-sweep and restarted: every metric arrives once, in order (0 lost, 0 duplicated)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'spool-'));
    let server = await fake(undefined, root);
    const port = server.port;
    const spool = join(root, 'spool', 'sweep.jsonl');
    const store = new SpoolingTrackingStore(rest(server.url), spool, { retryIntervalMs: 50 });
    const exp = await store.getOrCreateExperiment('outage');
    const parent = await store.createRun({ experimentId: exp, runName: 'parent' });
    let child = await store.createRun({ experimentId: exp, runName: 'cell 0', parentRunId: parent.info.runId });
    const sent: number[] = [];
    for (let step = 0; step < 120; step++) {
      if (step === 40) await server.close(); // the server goes away
      if (step === 60) child = await store.createRun({ experimentId: exp, runName: 'cell 1', parentRunId: parent.info.runId });
      await store.logBatch(step < 60 ? child.info.runId : child.info.runId, { metrics: [{ key: 'loss', value: step, timestamp: 1_700_000_000_000 + step, step }] });
      sent.push(step);
      if (step === 90) server = await fake(port, root); // and comes back on the same port
    }
    await store.updateRun({ runId: child.info.runId, status: 'FINISHED' });
    expect(await store.flush()).toBe(true);
    expect(store.stats.spooled).toBeGreaterThan(0);
    const check = rest(server.url);
    const cells = await check.searchRuns({ experimentIds: [exp], filter: `tags.\`mlflow.parentRunId\` = '${parent.info.runId}'` });
    expect(cells.runs.map((r) => r.info.runName).sort()).toEqual(['cell 0', 'cell 1']);
    const found: number[] = [];
    for (const run of cells.runs) found.push(...(await check.getMetricHistory(run.info.runId, 'loss')).map((m) => m.step));
    expect(found.sort((a, b) => a - b)).toEqual(sent);
    const cell1 = cells.runs.find((r) => r.info.runName === 'cell 1')!;
    expect(cell1.info.status).toBe('FINISHED');
    expect((await check.getMetricHistory(cell1.info.runId, 'loss')).map((m) => m.step)).toEqual(sent.slice(60));
    expect(await readFile(spool, 'utf8')).toBe('');
    await store.close();
    await check.close();
  });

  it('an answer lost after the server applied the batch is not applied twice on replay', async () => {
    const server = await fake();
    const root = await mkdtemp(join(tmpdir(), 'spool-'));
    const store = new SpoolingTrackingStore(rest(server.url), join(root, 's.jsonl'), { retryIntervalMs: 50 });
    const exp = await store.getOrCreateExperiment('lost-answer');
    const run = await store.createRun({ experimentId: exp, runName: 'r' });
    server.faults.loseNextAnswers(1);
    await store.logBatch(run.info.runId, { metrics: [1, 2, 3].map((step) => ({ key: 'm', value: step, timestamp: 1000 + step, step })) });
    expect(store.backlog).toBe(1);
    expect(await store.flush()).toBe(true);
    expect(store.stats.duplicatesSkipped).toBe(3);
    expect((await store.getMetricHistory(run.info.runId, 'm')).map((m) => m.step)).toEqual([1, 2, 3]);
    await store.close();
  });

  it('a spool left by a killed process is replayed by a new one (sync-runs), exactly once', async () => {
    const root = await mkdtemp(join(tmpdir(), 'spool-'));
    const server = await fake();
    const spool = join(root, 's.jsonl');
    const exp = await rest(server.url).getOrCreateExperiment('replay');
    const dead = new SpoolingTrackingStore(rest('http://127.0.0.1:9'), spool, { retryIntervalMs: 60_000 });
    const run = await dead.createRun({ experimentId: exp, runName: 'offline run' });
    expect(run.info.runId).toMatch(/^pending-/);
    await dead.logBatch(run.info.runId, { metrics: [{ key: 'x', value: NaN, timestamp: 1, step: 0 }], params: [{ key: 'p', value: '1' }] });
    await dead.updateRun({ runId: run.info.runId, status: 'FINISHED' });
    // the process dies here: nothing delivered, the spool stays
    const first = await replaySpool(spool, rest(server.url));
    expect(first).toMatchObject({ complete: true, delivered: 3, failed: [] });
    const again = await replaySpool(spool, rest(server.url));
    expect(again.delivered).toBe(0);
    const runs = (await rest(server.url).searchRuns({ experimentIds: [exp] })).runs;
    expect(runs).toHaveLength(1);
    expect(runs[0].info.status).toBe('FINISHED');
    expect(runs[0].data.params.p).toBe('1');
    expect(Number.isNaN(runs[0].data.metrics.x.value)).toBe(true);
  });

  it('a permanent error (changed param) is reported once and does not block the spool', async () => {
    const server = await fake();
    const root = await mkdtemp(join(tmpdir(), 'spool-'));
    const direct = rest(server.url);
    const exp = await direct.getOrCreateExperiment('permanent');
    const run = await direct.createRun({ experimentId: exp, runName: 'r' });
    await direct.logBatch(run.info.runId, { params: [{ key: 'lr', value: '1' }] });
    const store = new SpoolingTrackingStore(direct, join(root, 's.jsonl'));
    server.faults.failNext(1, 503);
    await store.logBatch(run.info.runId, { params: [{ key: 'lr', value: '2' }] });
    await store.logBatch(run.info.runId, { metrics: [{ key: 'after', value: 1, timestamp: 1, step: 0 }] });
    expect(await store.flush()).toBe(true);
    expect(store.stats.failed).toHaveLength(1);
    expect(store.stats.failed[0].error).toMatch(/Changing param values is not allowed/);
    expect(await direct.getMetricHistory(run.info.runId, 'after')).toHaveLength(1);
  });
});
