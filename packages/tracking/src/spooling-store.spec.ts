import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTrackingStore } from './create-store';
import { MlflowUnavailableError } from './errors';
import { type FakeMlflowServer, startFakeMlflowServer } from './testing/fake-mlflow-server';
import { RestTrackingStore } from './rest-store';
import { SpoolJournal } from './spool-journal';
import { FileTrackingStore } from './file-store';
import { isPendingRunId, replaySpool, SPOOL_LOST_WRITES_TAG, SpoolingTrackingStore } from './spooling-store';
import { searchAllRuns } from './tracking-store';

const open: FakeMlflowServer[] = [];
afterAll(async () => {
  for (const s of open) await s.close().catch(() => undefined);
});

async function fake(options: { port?: number; root?: string } = {}): Promise<FakeMlflowServer> {
  const s = await startFakeMlflowServer(options);
  open.push(s);
  return s;
}

/** A client that gives up quickly, as `createTrackingStore` configures one for spooling. */
const rest = (url: string, attempts = 2) =>
  new RestTrackingStore({
    uri: url,
    retry: { attempts, baseDelayMs: 5, maxDelayMs: 20 },
    connectTimeoutMs: 300,
    requestTimeoutMs: 1000,
  });
const tempDir = () => mkdtemp(join(tmpdir(), 'spool-'));
const T0 = 1_700_000_000_000;

describe('SpoolingTrackingStore: the server goes away mid-sweep', () => {
  it('stopped and restarted on the same port: every metric sent is found once (0 lost, 0 duplicated), in order', async () => {
    const root = await tempDir();
    let server = await fake({ root });
    const port = server.port;
    const spool = join(root, 'spool', 'sweep.jsonl');
    const events: string[] = [];
    const store = new SpoolingTrackingStore(rest(server.url), spool, {
      retryIntervalMs: 50,
      onEvent: (l) => events.push(l),
    });
    const exp = await store.getOrCreateExperiment('outage');
    const parent = await store.createRun({ experimentId: exp, runName: 'parent' });
    const cells = [await store.createRun({ experimentId: exp, runName: 'cell 0', parentRunId: parent.info.runId })];
    const sent = new Map<string, number[]>();
    for (let step = 0; step < 150; step++) {
      if (step === 50) await server.close(); // the server goes away
      if (step === 75) {
        const cell = await store.createRun({ experimentId: exp, runName: 'cell 1', parentRunId: parent.info.runId });
        expect(isPendingRunId(cell.info.runId)).toBe(true);
        cells.push(cell);
      }
      const cell = cells.at(-1)!;
      await store.logBatch(cell.info.runId, {
        metrics: [
          { key: 'loss', value: step, timestamp: T0 + step, step },
          { key: 'nan', value: NaN, timestamp: T0 + step, step },
        ],
      });
      sent.set(cell.info.runName, [...(sent.get(cell.info.runName) ?? []), step]);
      if (step === 110) server = await fake({ port, root }); // back on the same port
    }
    await store.updateRun({ runId: cells[1].info.runId, status: 'FINISHED', endTime: T0 + 999 });
    expect(await store.flush()).toBe(true);
    expect(store.stats.spooled).toBeGreaterThan(0);
    expect(store.backlog).toBe(0);
    expect(events.some((e) => /spooling to .*sweep\.jsonl/.test(e))).toBe(true);
    expect(events.some((e) => /cell 1.*queued as pending-/.test(e))).toBe(true);

    const check = rest(server.url);
    const found = await searchAllRuns(check, {
      experimentIds: [exp],
      filter: `tags.\`mlflow.parentRunId\` = '${parent.info.runId}'`,
    });
    expect(found.map((r) => r.info.runName).sort()).toEqual(['cell 0', 'cell 1']);
    let total = 0;
    for (const run of found) {
      const steps = (await check.getMetricHistory(run.info.runId, 'loss')).map((m) => m.step);
      expect(steps, run.info.runName).toEqual(sent.get(run.info.runName)); // same points, same order, none twice
      expect((await check.getMetricHistory(run.info.runId, 'nan')).every((m) => Number.isNaN(m.value))).toBe(true);
      total += steps.length;
    }
    expect(total).toBe(150);
    const cell1 = found.find((r) => r.info.runName === 'cell 1')!;
    expect(cell1.info).toMatchObject({ status: 'FINISHED', endTime: T0 + 999 });
    expect(store.resolveRunId(cells[1].info.runId)).toBe(cell1.info.runId);
    expect((await store.getRun(cells[1].info.runId)).info.runId).toBe(cell1.info.runId);
    expect(await readFile(spool, 'utf8')).toBe(''); // delivered: the spool is emptied
    await store.close();
    await check.close();
  });

  it('writes keep their order: after one is spooled, later ones queue behind it even when the server answers again', async () => {
    const server = await fake();
    const dir = await tempDir();
    const store = new SpoolingTrackingStore(rest(server.url, 1), join(dir, 's.jsonl'), { retryIntervalMs: 60_000 });
    const run = await store.createRun({ experimentId: await store.getOrCreateExperiment('order'), runName: 'r' });
    server.faults.failNext(1, 503);
    await store.setTag(run.info.runId, 'phase', 'one');
    await store.setTag(run.info.runId, 'phase', 'two'); // the server is fine now, but 'one' must land first
    expect(store.backlog).toBe(2);
    expect((await store.getRun(run.info.runId)).data.tags.phase).toBeUndefined();
    expect(await store.flush()).toBe(true);
    expect((await store.getRun(run.info.runId)).data.tags.phase).toBe('two');
    await store.close();
  });

  it('an answer lost after the server applied a spooled batch is not applied twice on the next replay', async () => {
    const server = await fake();
    const dir = await tempDir();
    const store = new SpoolingTrackingStore(rest(server.url, 1), join(dir, 's.jsonl'), { retryIntervalMs: 60_000 });
    const run = await store.createRun({ experimentId: await store.getOrCreateExperiment('lost-answer'), runName: 'r' });
    server.faults.loseNextAnswers(1, { endpoint: 'runs/log-batch' }); // direct send: applied, answer lost → spooled
    await store.logBatch(run.info.runId, {
      metrics: [1, 2, 3].map((step) => ({ key: 'm', value: step, timestamp: 1000 + step, step })),
    });
    await store.logBatch(run.info.runId, {
      metrics: [4, 5].map((step) => ({ key: 'm', value: step, timestamp: 1000 + step, step })),
    });
    server.faults.loseNextAnswers(1, { endpoint: 'runs/log-batch' }); // replay of the first: applied again? no — deduplicated
    expect(await store.flush()).toBe(false);
    expect(await store.flush()).toBe(true);
    expect(store.stats.duplicatesSkipped).toBeGreaterThanOrEqual(3);
    expect((await store.getMetricHistory(run.info.runId, 'm')).map((m) => m.step)).toEqual([1, 2, 3, 4, 5]);
    await store.close();
  });
});

describe('replaySpool: a spool left by a process that died', () => {
  it('is replayed by a new process exactly once: runs created, params, NaN metrics, statuses, artifacts', async () => {
    const dir = await tempDir();
    const server = await fake();
    const spool = join(dir, 's.jsonl');
    const exp = await rest(server.url).getOrCreateExperiment('replay');
    const dead = new SpoolingTrackingStore(rest('http://127.0.0.1:9', 1), spool, { retryIntervalMs: 60_000 });
    const run = await dead.createRun({ experimentId: exp, runName: 'offline run' });
    const child = await dead.createRun({ experimentId: exp, runName: 'offline child', parentRunId: run.info.runId });
    await dead.logBatch(run.info.runId, {
      metrics: [{ key: 'x', value: NaN, timestamp: 1, step: 0 }],
      params: [{ key: 'p', value: '1' }],
    });
    await dead.logArtifact(child.info.runId, 'notes/a.txt', 'spooled bytes');
    await dead.updateRun({ runId: run.info.runId, status: 'FINISHED', endTime: T0 });
    await expect(dead.getRun(run.info.runId)).rejects.toBeInstanceOf(MlflowUnavailableError);
    await dead.release(); // the process ends with its writes owed
    const first = await replaySpool(spool, rest(server.url));
    expect(first).toMatchObject({ complete: true, delivered: 5, remaining: 0, failed: [] });
    const again = await replaySpool(spool, rest(server.url));
    expect(again).toMatchObject({ complete: true, delivered: 0 });
    const runs = await searchAllRuns(rest(server.url), { experimentIds: [exp] });
    expect(runs.map((r) => r.info.runName).sort()).toEqual(['offline child', 'offline run']);
    const parent = runs.find((r) => r.info.runName === 'offline run')!;
    const kid = runs.find((r) => r.info.runName === 'offline child')!;
    expect(parent.info).toMatchObject({ status: 'FINISHED', endTime: T0 });
    expect(parent.data.params.p).toBe('1');
    expect(parent.data.metrics.x.value).toBeNaN();
    expect(kid.data.tags['mlflow.parentRunId']).toBe(parent.info.runId);
    expect((await rest(server.url).downloadArtifact(kid.info.runId, 'notes/a.txt')).toString()).toBe('spooled bytes');
  });

  it('entries delivered just before the crash, without their ack, are not applied twice: the run is adopted, points skipped', async () => {
    const dir = await tempDir();
    const server = await fake();
    const spool = join(dir, 's.jsonl');
    const direct = rest(server.url);
    const exp = await direct.getOrCreateExperiment('half-acked');
    const journal = new SpoolJournal(spool);
    const request = { experimentId: exp, runName: 'created before the crash', startTime: T0 + 5 };
    const createEntry = await journal.add({ op: 'createRun', placeholder: 'pending-aaaa', request });
    const metrics = [0, 1, 2, 3].map((step) => ({ key: 'loss', value: step / 3, timestamp: T0 + step, step }));
    await journal.add({ op: 'logBatch', runId: 'pending-aaaa', batch: { metrics: metrics.map((m) => ({ ...m })) } });
    await journal.release();
    // the dying process had delivered the creation and half of the batch, and acked nothing
    const created = await direct.createRun(request);
    await direct.logBatch(created.info.runId, { metrics: metrics.slice(0, 2) });
    expect(createEntry.seq).toBe(1);
    const result = await replaySpool(spool, direct);
    expect(result).toMatchObject({ complete: true, delivered: 2, duplicatesSkipped: 2 });
    const runs = await searchAllRuns(direct, { experimentIds: [exp] });
    expect(runs.map((r) => r.info.runId)).toEqual([created.info.runId]);
    expect((await direct.getMetricHistory(created.info.runId, 'loss')).map((m) => m.step)).toEqual([0, 1, 2, 3]);
  });

  it('a write the server refuses for good (a changed param) is reported once, its metrics still arrive, and the spool goes on', async () => {
    const server = await fake();
    const dir = await tempDir();
    const direct = rest(server.url, 1);
    const run = await direct.createRun({ experimentId: await direct.getOrCreateExperiment('permanent'), runName: 'r' });
    await direct.logParam(run.info.runId, 'lr', '1');
    const events: string[] = [];
    const store = new SpoolingTrackingStore(direct, join(dir, 's.jsonl'), {
      retryIntervalMs: 60_000,
      onEvent: (l) => events.push(l),
    });
    server.faults.failNext(1, 503);
    await store.logBatch(run.info.runId, {
      params: [{ key: 'lr', value: '2' }],
      metrics: [{ key: 'with-conflict', value: 1, timestamp: 1, step: 0 }],
    });
    await store.logMetric(run.info.runId, 'after', 1, 0, 1);
    expect(await store.flush()).toBe(true);
    expect(store.stats.failed).toHaveLength(1);
    expect(store.stats.failed[0].error).toMatch(/Changing param values is not allowed/);
    expect(events.some((e) => /refused by the server/.test(e))).toBe(true);
    expect(await direct.getMetricHistory(run.info.runId, 'with-conflict')).toHaveLength(1);
    expect(await direct.getMetricHistory(run.info.runId, 'after')).toHaveLength(1);
    expect((await direct.getRun(run.info.runId)).data.params.lr).toBe('1');
  });
});

describe('createTrackingStore with a spool', () => {
  it('logged models go straight to the server, and fail (unsent, unspooled) while writes still wait in the spool after a replay; metrics with a model id are spooled with it', async () => {
    const root = await tempDir();
    const server = await fake({ root });
    const store = new SpoolingTrackingStore(rest(server.url), join(root, 'spool.jsonl'), { retryIntervalMs: 60_000 });
    const exp = await store.getOrCreateExperiment('models');
    const run = await store.createRun({ experimentId: exp, runName: 'cell' });
    const model = await store.createLoggedModel({ experimentId: exp, name: 'cell', sourceRunId: run.info.runId });
    await store.logLoggedModelArtifact(model.modelId, 'MLmodel', 'flavors: {}\n');
    server.faults.failNext(10, 503, { endpoint: 'runs/log-batch' });
    const metric = {
      key: 'image_auroc',
      value: 0.7,
      timestamp: T0,
      step: 0,
      modelId: model.modelId,
      datasetName: 'oak',
      datasetDigest: 'd',
    };
    await store.logBatch(run.info.runId, { metrics: [metric] });
    expect(store.backlog).toBe(1);
    const modelRequests = () => server.requests.filter((r) => /logged-models|runs\/outputs/.test(r.path)).length;
    const before = modelRequests();
    const refused = await store.finalizeLoggedModel(model.modelId, 'READY').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MlflowUnavailableError);
    expect((refused as Error).message).toMatch(/not spooled; 1 write\(s\) wait in the spool/);
    await expect(store.logOutputs(run.info.runId, [{ modelId: model.modelId, step: 0 }])).rejects.toBeInstanceOf(
      MlflowUnavailableError,
    );
    // the spool was tried first (still refused), the model's writes were never sent
    expect(modelRequests()).toBe(before);
    expect(store.backlog).toBe(1);
    server.faults.clear();
    await store.close({ flush: false });
    // replayed from the file, as a later process would: the value kept its model and dataset
    const target = rest(server.url);
    expect(await replaySpool(join(root, 'spool.jsonl'), target)).toMatchObject({ complete: true, delivered: 1 });
    expect((await target.getLoggedModel(model.modelId)).metrics).toMatchObject([
      { key: 'image_auroc', value: 0.7, datasetName: 'oak', datasetDigest: 'd', runId: run.info.runId },
    ]);
    expect((await target.finalizeLoggedModel(model.modelId, 'READY')).status).toBe('READY');
    await target.close();
  });

  it('a blip that spooled a write is over: the logged model replays the spool first, then goes through', async () => {
    const root = await tempDir();
    const server = await fake({ root });
    const store = new SpoolingTrackingStore(rest(server.url), join(root, 'spool.jsonl'), { retryIntervalMs: 60_000 });
    const exp = await store.getOrCreateExperiment('blip');
    const run = await store.createRun({ experimentId: exp, runName: 'cell' });
    // the client's two attempts fail, so the write is spooled; the server answers again after that
    server.faults.failNext(2, 503, { endpoint: 'runs/log-batch' });
    await store.logMetric(run.info.runId, 'train/loss', 0.5, 1);
    expect(store.backlog).toBe(1);
    const model = await store.createLoggedModel({ experimentId: exp, name: 'cell', sourceRunId: run.info.runId });
    expect(store.backlog).toBe(0);
    expect(model.status).toBe('PENDING');
    expect((await store.getMetricHistory(run.info.runId, 'train/loss')).map((m) => m.value)).toEqual([0.5]);
    await store.close();
  });

  it('wraps the REST client when a spool path is given, and spools at once when nothing answers', async () => {
    const dir = await tempDir();
    const events: string[] = [];
    const store = createTrackingStore({
      uri: 'http://127.0.0.1:9',
      spoolPath: join(dir, 's.jsonl'),
      onEvent: (l) => events.push(l),
      rest: { retry: { attempts: 1 } },
    });
    expect(store).toBeInstanceOf(SpoolingTrackingStore);
    const run = await store.createRun({ experimentId: '1', runName: 'x' });
    expect(run.info.runId).toMatch(/^pending-[0-9a-f]{32}$/);
    await store.logMetric(run.info.runId, 'm', 1);
    expect((store as SpoolingTrackingStore).backlog).toBe(2);
    expect(events[0]).toMatch(/spooling to/);
    await (store as SpoolingTrackingStore).release();
  });
});

describe('replaySpool: a damaged spool says which writes of which runs it lost, and such a run is never FINISHED', () => {
  const line = (o: object) => `${JSON.stringify(o)}\n`;
  const cut = (o: object, at = 80) => JSON.stringify(o).slice(0, at);

  it('a damaged line in the middle: the run the spool closes is FAILED and tagged; a torn last line is reported, not dropped; a lost creation does not stall the replay', async () => {
    const root = await tempDir();
    const target = new FileTrackingStore(join(root, 'mlruns'));
    const exp = await target.getOrCreateExperiment('damaged');
    const [a, b] = [
      await target.createRun({ experimentId: exp, runName: 'a' }),
      await target.createRun({ experimentId: exp, runName: 'b' }),
    ];
    const [ra, rb] = [a.info.runId, b.info.runId];
    const placeholder = `pending-${'1'.repeat(32)}`;
    const spool = join(root, 'sweep.jsonl');
    await writeFile(
      spool,
      line({ seq: 1, op: 'logBatch', runId: ra, batch: { params: [{ key: 'p', value: '1' }] } }) +
        `${cut({ seq: 2, op: 'logArtifact', runId: ra, path: 'model/weights.safetensors', base64: 'AAAA' })}\n` +
        line({ seq: 3, op: 'updateRun', request: { runId: ra, status: 'FINISHED', endTime: T0 } }) +
        `${cut({ seq: 4, op: 'createRun', placeholder, request: { experimentId: exp, runName: 'c', startTime: T0 } }, 40)}\n` +
        line({ seq: 5, op: 'logBatch', runId: placeholder, batch: { params: [{ key: 'p', value: '2' }] } }) +
        line({ seq: 6, op: 'logBatch', runId: rb, batch: { params: [{ key: 'p', value: '3' }] } }) +
        cut({ seq: 7, op: 'logArtifact', runId: rb, path: 'result.json', base64: 'AAAA' }),
    );
    const events: string[] = [];
    const result = await replaySpool(spool, target, { onEvent: (l) => events.push(l) });
    expect(result.complete).toBe(true);
    expect(result.lost).toEqual([
      `entry 2 (logArtifact) of run ${ra}`,
      `entry 4 (createRun) of run ${placeholder} (the entries around it)`,
      `entry 7 (logArtifact) of run ${rb}, the last line, cut by a crash mid-write`,
    ]);
    const runA = await target.getRun(ra);
    expect(runA.info.status).toBe('FAILED');
    expect(runA.data.tags[SPOOL_LOST_WRITES_TAG]).toMatch(
      /^1 write\(s\) lost in damaged lines of .*: entry 2 \(logArtifact\)/,
    );
    expect(result.failedForLostWrites).toEqual([ra]);
    // b's closing was never spooled: it stays RUNNING (a state that says unfinished), tagged
    const runB = await target.getRun(rb);
    expect(runB.info.status).toBe('RUNNING');
    expect(runB.data.tags[SPOOL_LOST_WRITES_TAG]).toMatch(/entry 7 \(logArtifact\)/);
    expect(result.failed.map((f) => [f.seq, f.error])).toEqual([
      [5, expect.stringMatching(/never created: its creation was lost in a damaged line/)],
    ]);
    expect(events.filter((e) => e.startsWith('lost: '))).toHaveLength(3);
    expect((await readFile(`${spool}.unreadable`, 'utf8')).split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('a damaged acknowledgement, or a damaged entry whose acknowledgement survives, loses nothing', async () => {
    const root = await tempDir();
    const target = new FileTrackingStore(join(root, 'mlruns'));
    const run = await target.createRun({ experimentId: await target.getOrCreateExperiment('acks'), runName: 'a' });
    const id = run.info.runId;
    const spool = join(root, 'sweep.jsonl');
    await writeFile(
      spool,
      `${cut({ seq: 1, op: 'logBatch', runId: id, batch: { params: [{ key: 'p', value: '1' }] } })}\n` +
        line({ ack: 1 }) +
        line({ seq: 2, op: 'updateRun', request: { runId: id, status: 'FINISHED', endTime: T0 } }) +
        '{"ack":2,"ru\n',
    );
    const result = await replaySpool(spool, target);
    expect(result.lost).toEqual([]);
    expect((await target.getRun(id)).info.status).toBe('FINISHED');
  });
});
