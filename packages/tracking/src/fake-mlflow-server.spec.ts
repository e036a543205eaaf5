import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeMlflowServer, startFakeMlflowServer } from './testing/fake-mlflow-server';
import { serverContract } from './testing/server-contract';

let fake: FakeMlflowServer;
beforeAll(async () => {
  fake = await startFakeMlflowServer();
});
afterAll(async () => fake.close());

serverContract('in-process fake server', () => fake.url);

describe('fake server faults and restarts', () => {
  const createExperiment = (url: string, name: string) =>
    request(`${url}/api/2.0/mlflow/experiments/create`, {
      method: 'POST',
      body: JSON.stringify({ name }),
      headers: { 'content-type': 'application/json' },
    });

  it('failNext answers the error (narrowed to an endpoint when asked) and logs it', async () => {
    fake.faults.failNext(1, 503, { endpoint: 'experiments/create' });
    const other = await request(`${fake.url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=none`);
    expect(other.statusCode).toBe(404);
    await other.body.text();
    const failed = await createExperiment(fake.url, 'f1');
    expect([failed.statusCode, await failed.body.json()]).toEqual([
      503,
      { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'injected failure (503)' },
    ]);
    expect(fake.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/api/2.0/mlflow/experiments/create',
      status: 503,
    });
  });

  it('dropNextConnections closes the socket before handling; loseNextAnswers after', async () => {
    fake.faults.dropNextConnections(1);
    await expect(createExperiment(fake.url, 'dropped')).rejects.toThrow();
    fake.faults.loseNextAnswers(1);
    await expect(createExperiment(fake.url, 'lost')).rejects.toThrow();
    expect(await fake.store.getExperimentByName('dropped')).toBeUndefined();
    expect(await fake.store.getExperimentByName('lost')).toBeDefined();
    expect(fake.requests.slice(-2).map((r) => r.status)).toEqual([0, 0]);
  });

  it('a fake started again on the same root and port serves what the first one stored', async () => {
    const first = await startFakeMlflowServer();
    const created = await createExperiment(first.url, 'kept');
    const { experiment_id: id } = (await created.body.json()) as { experiment_id: string };
    await first.close();
    const again = await startFakeMlflowServer({ root: first.root, port: first.port });
    const found = await request(`${again.url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=kept`);
    expect(((await found.body.json()) as { experiment: { experiment_id: string } }).experiment.experiment_id).toBe(id);
    await again.close();
  });
});
