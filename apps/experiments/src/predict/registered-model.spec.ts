/**
 * `predict --model models:/…`: the registry model resolved and downloaded with the tracking
 * credentials (fake server with basic auth), into a cache reused the second time; a bad URI, a
 * missing server or an unknown alias is a clear error naming --model.
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelRegistryClient, RestTrackingStore, registerModelVersion } from '@cfa/tracking';
import { type FakeMlflowServer, startFakeMlflowServer } from '@cfa/tracking/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModelDir } from './predict-folder';
import { fetchRegisteredModel } from './registered-model';

describe('fetchRegisteredModel', () => {
  let fake: FakeMlflowServer;
  let modelId: string;
  const env = { MLFLOW_TRACKING_USERNAME: 'ana', MLFLOW_TRACKING_PASSWORD: 'ana-password' };

  beforeAll(async () => {
    fake = await startFakeMlflowServer({ auth: { users: { ana: 'ana-password' } } });
    const store = new RestTrackingStore({ uri: fake.url, env });
    const experimentId = await store.getOrCreateExperiment('e');
    const { runId } = (await store.createRun({ experimentId, runName: 'fit' })).info;
    const model = await store.createLoggedModel({ experimentId, name: 'fit', sourceRunId: runId });
    modelId = model.modelId;
    await store.logLoggedModelArtifact(modelId, 'MLmodel', 'flavors: {}\n');
    await store.logLoggedModelArtifact(modelId, 'model/manifest.json', '{"format": 1}');
    await store.finalizeLoggedModel(modelId, 'READY');
    const registry = new ModelRegistryClient(store.transport);
    const v = await registerModelVersion(registry, { name: 'cfa-oak', source: `models:/${modelId}`, modelId, runId });
    await registry.setAlias('cfa-oak', 'champion', v.version);
    await store.close();
  });
  afterAll(() => fake.close());

  it('downloads models:/NAME@ALIAS with the credentials into the cache, then reads it from there', async () => {
    const cacheRoot = await mkdtemp(join(tmpdir(), 'model-cache-'));
    const first = await fetchRegisteredModel('models:/cfa-oak@champion', { trackingUri: fake.url, cacheRoot, env });
    expect(first).toMatchObject({ dir: join(cacheRoot, modelId), downloaded: true });
    expect(first.description).toBe(`models:/cfa-oak@champion = version 1 of 'cfa-oak' (logged model ${modelId})`);
    expect(await resolveModelDir(first.dir)).toBe(join(first.dir, 'model'));
    expect(await readFile(join(first.dir, 'model', 'manifest.json'), 'utf8')).toBe('{"format": 1}');
    const again = await fetchRegisteredModel('models:/cfa-oak/1', { trackingUri: fake.url, cacheRoot, env });
    expect(again).toMatchObject({ dir: first.dir, downloaded: false });
    // nothing but the model's folder: no staging left behind
    expect(await readdir(cacheRoot)).toEqual([modelId]);
  });

  it('a bad URI, no server, an unknown alias, no credentials: errors naming --model and saying why', async () => {
    const opts = { trackingUri: fake.url, cacheRoot: await mkdtemp(join(tmpdir(), 'model-cache-')), env };
    await expect(fetchRegisteredModel('models:/cfa-oak', opts)).rejects.toThrow(
      /^--model models:\/cfa-oak: 'models:\/cfa-oak' is not a model URI/,
    );
    await expect(fetchRegisteredModel('models:/cfa-oak@champion', { ...opts, trackingUri: undefined })).rejects.toThrow(
      /pass --tracking-uri/,
    );
    await expect(fetchRegisteredModel('models:/cfa-oak@nope', opts)).rejects.toThrow(
      /--model models:\/cfa-oak@nope: .*alias nope not found/,
    );
    await expect(fetchRegisteredModel('models:/cfa-oak@champion', { ...opts, env: {} })).rejects.toThrow(
      /--model models:\/cfa-oak@champion: .*401.*MLFLOW_TRACKING_USERNAME/,
    );
  });
});
