import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MlflowParamConflictError,
  MlflowRateLimitError,
  MlflowResourceNotFoundError,
  MlflowServerError,
  MlflowUnavailableError,
} from './errors';
import { type FakeMlflowServer, startFakeMlflowServer } from './testing/fake-mlflow-server';
import { RestTrackingStore, type RetryEvent } from './rest-store';
import { trackingContract } from './testing/contract-suite';
import { searchAllRuns } from './tracking-store';

const servers: FakeMlflowServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});
async function fake(): Promise<FakeMlflowServer> {
  const s = await startFakeMlflowServer();
  servers.push(s);
  return s;
}

trackingContract(
  'REST client → in-process fake server',
  async () => new RestTrackingStore({ uri: (await fake()).url, retry: { baseDelayMs: 5 }, historyPageSize: 1000 }),
  {
    reopen: (store) => new RestTrackingStore({ uri: store.location, retry: { baseDelayMs: 5 }, historyPageSize: 1000 }),
  },
);

describe('RestTrackingStore requests (fake server log)', () => {
  let server: FakeMlflowServer;
  let store: RestTrackingStore;
  let runId: string;
  beforeAll(async () => {
    server = await fake();
    store = new RestTrackingStore({ uri: server.url });
    runId = (await store.createRun({ experimentId: await store.getOrCreateExperiment('requests'), runName: 'r' })).info
      .runId;
  });
  afterAll(() => store.close());
  const batches = () => server.requests.filter((r) => r.path.endsWith('runs/log-batch'));

  it('a batch exactly at a limit is one request; one entity more is two', async () => {
    const metric = (i: number) => ({ key: 'm', value: i, timestamp: 1, step: i });
    let before = batches().length;
    await store.logBatch(runId, { metrics: Array.from({ length: 1000 }, (_, i) => metric(i)) });
    expect(batches().length - before).toBe(1);
    before = batches().length;
    await store.logBatch(runId, { metrics: Array.from({ length: 1001 }, (_, i) => metric(2000 + i)) });
    expect(batches().length - before).toBe(2);
    before = batches().length;
    await store.logBatch(runId, {
      params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: 'v' })),
      tags: Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: 'v' })),
    });
    expect(batches().length - before).toBe(2);
  });

  it('over 1 MB of values goes out in bodies of at most 1,000,000 bytes', async () => {
    const before = batches().length;
    await store.logBatch(runId, {
      params: Array.from({ length: 100 }, (_, i) => ({ key: `big${i}`, value: 'x'.repeat(6000) })),
      tags: Array.from({ length: 100 }, (_, i) => ({ key: `big${i}`, value: 'y'.repeat(8000) })),
    });
    const sent = batches().slice(before);
    expect(sent.length).toBeGreaterThan(1);
    expect(Math.max(...sent.map((r) => r.bytes))).toBeLessThanOrEqual(1_000_000);
    expect(sent.reduce((n, r) => n + r.bytes, 0)).toBeGreaterThan(1_400_000);
  });

  it('metric history sends max_results and follows pages', async () => {
    const small = new RestTrackingStore({ uri: server.url, historyPageSize: 300 });
    const before = server.requests.length;
    expect(await small.getMetricHistory(runId, 'm')).toHaveLength(2001);
    expect(server.requests.slice(before).filter((r) => r.path.endsWith('metrics/get-history'))).toHaveLength(7);
    await small.close();
  });
});

describe('RestTrackingStore robustness (fake server faults)', () => {
  let server: FakeMlflowServer;
  let store: RestTrackingStore;
  let runId: string;
  const retries: RetryEvent[] = [];
  beforeAll(async () => {
    server = await fake();
    store = new RestTrackingStore({
      uri: server.url,
      retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 40 },
      requestTimeoutMs: 700,
      onRetry: (e) => retries.push(e),
    });
    runId = (await store.createRun({ experimentId: await store.getOrCreateExperiment('robust'), runName: 'r' })).info
      .runId;
  });
  afterAll(() => store.close());
  const count = (endpoint: string, from: number) =>
    server.requests.slice(from).filter((r) => r.path.endsWith(endpoint)).length;

  it('a 503, then success: retried once, and the batch lands once', async () => {
    const from = server.requests.length;
    server.faults.failNext(1, 503);
    await store.logMetric(runId, 'after503', 1, 0, 1);
    expect(count('runs/log-batch', from)).toBe(2);
    expect(await store.getMetricHistory(runId, 'after503')).toHaveLength(1);
  });

  it('a 429 is retried, waiting what Retry-After says (capped at maxDelayMs)', async () => {
    retries.length = 0;
    server.faults.failNext(2, 429, { retryAfterS: 0.02 });
    await store.logMetric(runId, 'after429', 1, 0, 1);
    expect(retries.map((r) => r.delayMs)).toEqual([20, 20]);
    expect(await store.getMetricHistory(runId, 'after429')).toHaveLength(1);
  });

  it('backoff is full jitter: each delay uniform over [0, min(max, base·2^(n-1))], small values included', async () => {
    const jittered: RetryEvent[] = [];
    const base = 12;
    const policy = { attempts: 4, baseDelayMs: base, maxDelayMs: 40 };
    const client = new RestTrackingStore({ uri: server.url, retry: policy, onRetry: (e) => jittered.push(e) });
    for (let i = 0; i < 70; i++) {
      server.faults.failNext(3, 502, { endpoint: 'runs/log-batch' });
      await client.setTag(runId, 'jitter', String(i));
    }
    await client.close();
    expect(jittered.map((r) => r.attempt)).toEqual(Array.from({ length: 70 }, () => [1, 2, 3]).flat());
    // each delay as a fraction of its cap (12, 24, 40 ms): full jitter makes these uniform on [0, 1]
    const fractions = jittered.map((r) => r.delayMs / Math.min(policy.maxDelayMs, base * 2 ** (r.attempt - 1)));
    expect(Math.max(...fractions)).toBeLessThanOrEqual(1);
    expect(Math.min(...fractions)).toBeLessThan(0.1);
    expect(Math.max(...fractions)).toBeGreaterThan(0.9);
    // every quarter of [0, cap] gets its share (25 % expected; below 10 % of 210 draws is ~5 s.d. away)
    const quarters = [0, 1, 2, 3].map((q) => fractions.filter((f) => Math.min(3, Math.floor(f * 4)) === q).length);
    for (const n of quarters) expect(n / fractions.length).toBeGreaterThan(0.1);
  });

  it('a dropped connection, then success', async () => {
    server.faults.dropNextConnections(1);
    await store.logMetric(runId, 'afterDrop', 1, 0, 1);
    expect(await store.getMetricHistory(runId, 'afterDrop')).toHaveLength(1);
  });

  it('a request slower than the request timeout is abandoned and retried', async () => {
    retries.length = 0;
    server.faults.delayNext(1, 1_000, { endpoint: 'runs/get' });
    expect((await store.getRun(runId)).info.runId).toBe(runId);
    expect(retries[0].reason).toMatch(/did not answer/);
  });

  it('an answer lost after the server applied a batch: the retry sends only what is missing, nothing twice', async () => {
    server.faults.loseNextAnswers(1, { endpoint: 'runs/log-batch' });
    const metrics = [1, 2, 3].map((step) => ({ key: 'lost', value: step / 2, timestamp: 1000 + step, step }));
    await store.logBatch(runId, { metrics, params: [{ key: 'lost.p', value: '1' }] });
    expect((await store.getMetricHistory(runId, 'lost')).map((m) => m.step)).toEqual([1, 2, 3]);
    expect((await store.getRun(runId)).data.params['lost.p']).toBe('1');
  });

  it('an answer lost after the server created a run: the retry finds that run instead of making a second', async () => {
    const experimentId = await store.getOrCreateExperiment('robust');
    server.faults.loseNextAnswers(1, { endpoint: 'runs/create' });
    const run = await store.createRun({ experimentId, runName: 'created once', tags: { k: 'v' } });
    const same = await searchAllRuns(store, {
      experimentIds: [experimentId],
      filter: "attributes.run_name = 'created once'",
    });
    expect(same.map((r) => r.info.runId)).toEqual([run.info.runId]);
  });

  it('an answer lost after the server created an experiment: the retry returns it instead of "already exists"', async () => {
    server.faults.loseNextAnswers(1, { endpoint: 'experiments/create' });
    const id = await store.createExperiment('created-once');
    expect((await store.getExperimentByName('created-once'))?.experimentId).toBe(id);
  });

  it('two clients racing for one experiment name: the server creates it twice (as MLflow 3.6 does), both settle on the oldest', async () => {
    const a = new RestTrackingStore({ uri: server.url });
    const b = new RestTrackingStore({ uri: server.url });
    const [idA, idB] = await Promise.all([
      a.getOrCreateExperiment('made-twice'),
      b.getOrCreateExperiment('made-twice'),
    ]);
    const all = await server.store.getExperimentsByName('made-twice');
    expect(all).toHaveLength(2);
    expect([idA, idB]).toEqual([all[0].experimentId, all[0].experimentId]);
    expect((await b.getExperimentByName('made-twice'))?.experimentId).toBe(idA);
    await Promise.all([a.close(), b.close()]);
  });

  it('gives up after the attempts with the typed error, having tried exactly `attempts` times', async () => {
    // faults aimed at log-batch: a late request of an earlier test (a delayed runs/get) must not take them
    const onBatch = { endpoint: 'runs/log-batch' };
    let from = server.requests.length;
    server.faults.failNext(4, 500, onBatch);
    await expect(store.setTag(runId, 'k', 'v')).rejects.toBeInstanceOf(MlflowServerError);
    expect(count('runs/log-batch', from)).toBe(4);
    server.faults.failNext(4, 429, onBatch);
    await expect(store.setTag(runId, 'k', 'v')).rejects.toBeInstanceOf(MlflowRateLimitError);
    from = server.requests.length;
    server.faults.dropNextConnections(4, onBatch);
    const error = await store.setTag(runId, 'k', 'v').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowUnavailableError);
    expect(error).toMatchObject({ errorCode: 'UNAVAILABLE', endpoint: 'POST mlflow/runs/log-batch' });
    expect(count('runs/log-batch', from)).toBe(4);
  });

  it("MLflow's deterministic 500s are not retried: a changed param, a missing artifact", async () => {
    await store.logParam(runId, 'fixed', 'a');
    let from = server.requests.length;
    const conflict = await store.logParam(runId, 'fixed', 'b').catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(MlflowParamConflictError);
    expect(conflict).toMatchObject({ status: 500, errorCode: 'INTERNAL_ERROR' });
    expect(count('runs/log-batch', from)).toBe(1);
    from = server.requests.length;
    await expect(store.downloadArtifact(runId, 'nothing.bin')).rejects.toBeInstanceOf(MlflowResourceNotFoundError);
    expect(server.requests.slice(from).filter((r) => r.path.includes('mlflow-artifacts'))).toHaveLength(1);
  });

  it('no server at all: MlflowUnavailableError naming the URI, after the attempts', async () => {
    const dead = new RestTrackingStore({ uri: 'http://127.0.0.1:9', retry: { attempts: 2, baseDelayMs: 1 } });
    await expect(dead.getExperimentByName('x')).rejects.toThrow(/http:\/\/127\.0\.0\.1:9 did not answer.*ECONNREFUSED/);
    await dead.close();
  });

  it('options are checked: a misspelt option or a non-http URI fails at once', () => {
    expect(() => new RestTrackingStore({ uri: 'ftp://x' })).toThrow(/uri/);
    expect(() => new RestTrackingStore({ uri: 'http://x', retrys: {} } as never)).toThrow(/retrys/);
  });
});
