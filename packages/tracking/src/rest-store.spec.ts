import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowRateLimitError, MlflowServerError, MlflowUnavailableError } from './errors';
import { type FakeMlflowServer, startFakeMlflowServer } from './fake-mlflow-server';
import { RestTrackingStore } from './rest-store';
import { trackingContract } from './testing/contract-suite';
import { serverContract } from './testing/server-contract';

const servers: FakeMlflowServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

trackingContract('REST client → in-process fake server', async () => {
  const fake = await startFakeMlflowServer();
  servers.push(fake);
  return new RestTrackingStore({ uri: fake.url, retry: { baseDelayMs: 5 } });
});

let rawFake: FakeMlflowServer;
beforeAll(async () => {
  rawFake = await startFakeMlflowServer();
  servers.push(rawFake);
});
serverContract('in-process fake server', () => rawFake.url);

describe('RestTrackingStore robustness (fake server)', () => {
  let fake: FakeMlflowServer;
  let store: RestTrackingStore;
  let runId: string;
  beforeAll(async () => {
    fake = await startFakeMlflowServer();
    servers.push(fake);
    store = new RestTrackingStore({ uri: fake.url, retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 }, requestTimeoutMs: 500 });
    const exp = await store.getOrCreateExperiment('robust');
    runId = (await store.createRun({ experimentId: exp, runName: 'r' })).info.runId;
  });
  afterAll(() => store.close());

  it('a 503 then success: retried, and the batch lands once', async () => {
    fake.faults.failNext(1, 503);
    await store.logBatch(runId, { metrics: [{ key: 'after503', value: 1, timestamp: 1, step: 0 }] });
    expect(await store.getMetricHistory(runId, 'after503')).toHaveLength(1);
  });

  it('a 429 is retried too', async () => {
    fake.faults.failNext(2, 429);
    await store.logBatch(runId, { metrics: [{ key: 'after429', value: 1, timestamp: 1, step: 0 }] });
    expect(await store.getMetricHistory(runId, 'after429')).toHaveLength(1);
  });

  it('a dropped connection then success', async () => {
    fake.faults.dropNextConnections(1);
    await store.logBatch(runId, { metrics: [{ key: 'afterDrop', value: 1, timestamp: 1, step: 0 }] });
    expect(await store.getMetricHistory(runId, 'afterDrop')).toHaveLength(1);
  });

  it('a request slower than the timeout is retried', async () => {
    fake.faults.delayNext(1, 1500);
    const before = fake.requests.length;
    await store.setTag(runId, 'slow', 'yes');
    expect((await store.getRun(runId)).data.tags.slow).toBe('yes');
    expect(fake.requests.length).toBeGreaterThan(before);
  });

  it('gives up after the attempts with a typed error', async () => {
    fake.faults.failNext(4, 500);
    await expect(store.setTag(runId, 'k', 'v')).rejects.toBeInstanceOf(MlflowServerError);
    fake.faults.failNext(4, 429);
    await expect(store.setTag(runId, 'k', 'v')).rejects.toBeInstanceOf(MlflowRateLimitError);
    fake.faults.dropNextConnections(4);
    await expect(store.setTag(runId, 'k', 'v')).rejects.toBeInstanceOf(MlflowUnavailableError);
  });

  it('no server at all: MlflowUnavailableError naming the URI', async () => {
    const dead = new RestTrackingStore({ uri: 'http://127.0.0.1:9', retry: { attempts: 2, baseDelayMs: 1 } });
    await expect(dead.getExperimentByName('x')).rejects.toThrow(/http:\/\/127\.0\.0\.1:9 did not answer/);
    await dead.close();
  });
});
