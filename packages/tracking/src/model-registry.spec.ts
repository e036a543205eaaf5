/**
 * The Model Registry client on the shared transport, against the fake server (whose registry the
 * server contract holds to the real one's answers): registering a logged model, numbered versions,
 * tags, aliases, `models:/` URIs resolved and downloaded; a create whose answer is lost is found
 * again, not repeated; credentials reach the registry as they reach the tracking store (the issue:
 * it used to send none and got 401 from a basic-auth server). The real basic-auth server is in
 * auth-real-server.spec.ts.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MlflowInvalidParameterError,
  MlflowResourceAlreadyExistsError,
  MlflowResourceNotFoundError,
  MlflowUnauthenticatedError,
} from './errors';
import { ModelRegistryClient, parseModelUri, registerModelVersion } from './model-registry';
import { RestTrackingStore } from './rest-store';
import { RestTransport } from './rest-transport';
import { type FakeMlflowServer, startFakeMlflowServer } from './testing/fake-mlflow-server';

describe('parseModelUri', () => {
  it('name/version, name@alias and a logged-model id; anything else says which forms there are', () => {
    expect(parseModelUri('models:/cfa-fleece/3')).toEqual({ kind: 'version', name: 'cfa-fleece', version: '3' });
    expect(parseModelUri('models:/cfa fleece@champion')).toEqual({
      kind: 'alias',
      name: 'cfa fleece',
      alias: 'champion',
    });
    expect(parseModelUri(`models:/m-${'a'.repeat(32)}`)).toEqual({
      kind: 'logged-model',
      modelId: `m-${'a'.repeat(32)}`,
    });
    for (const bad of ['runs:/x/y', 'models:/', 'models:/a/b/c', 'models:/name', 'models://x/1'])
      expect(() => parseModelUri(bad), bad).toThrow(/expected models:\/<name>\/<version>, models:\/<name>@<alias>/);
  });
});

describe('ModelRegistryClient (fake server with basic auth)', () => {
  let fake: FakeMlflowServer;
  let transport: RestTransport;
  let store: RestTrackingStore;
  let registry: ModelRegistryClient;
  const env = { MLFLOW_TRACKING_USERNAME: 'alice', MLFLOW_TRACKING_PASSWORD: 'alice-password' };

  /** A READY logged model of a run, with two files. */
  const loggedModel = async (name: string) => {
    const experimentId = await store.getOrCreateExperiment('registry');
    const run = await store.createRun({ experimentId, runName: 'fit' });
    const model = await store.createLoggedModel({ experimentId, name, sourceRunId: run.info.runId });
    await store.logLoggedModelArtifact(model.modelId, 'MLmodel', 'flavors: {}\n');
    await store.logLoggedModelArtifact(model.modelId, 'bundle/model.json', '{"k":1}');
    await store.finalizeLoggedModel(model.modelId, 'READY');
    return { runId: run.info.runId, modelId: model.modelId };
  };

  beforeAll(async () => {
    fake = await startFakeMlflowServer({ auth: { users: { alice: 'alice-password' } } });
    transport = new RestTransport({ uri: fake.url, env, retry: { baseDelayMs: 1 } });
    store = new RestTrackingStore({ transport });
    registry = new ModelRegistryClient(transport);
  });
  afterAll(async () => {
    await transport.close();
    await fake.close();
  });

  it('registers a logged model: the model once, then numbered versions, linked by model_id, with credentials', async () => {
    const { runId, modelId } = await loggedModel('fleece');
    const source = `models:/${modelId}`;
    const a = await registerModelVersion(registry, { name: 'cfa-fleece', source, modelId, runId });
    const b = await registerModelVersion(registry, { name: 'cfa-fleece', source, modelId, runId, tags: { k: 'v' } });
    expect([a.version, b.version]).toEqual(['1', '2']);
    expect(b).toMatchObject({ name: 'cfa-fleece', source, runId, modelId, status: 'READY', tags: { k: 'v' } });
    await expect(registry.createRegisteredModel('cfa-fleece')).rejects.toBeInstanceOf(MlflowResourceAlreadyExistsError);
    expect((await registry.getRegisteredModel('cfa-fleece')).latestVersions.map((v) => v.version)).toEqual(['2']);
    expect(JSON.parse((await store.getLoggedModel(modelId)).tags['mlflow.modelVersions'])).toEqual([
      { name: 'cfa-fleece', version: 1 },
      { name: 'cfa-fleece', version: 2 },
    ]);
    // every registry request carried the credentials: none was refused
    expect(fake.requests.filter((r) => r.status === 401)).toEqual([]);
  });

  it('version tags and aliases; models:/NAME@alias and models:/NAME/VERSION resolve and download the files', async () => {
    const { runId, modelId } = await loggedModel('oak');
    const v = await registerModelVersion(registry, { name: 'cfa-oak', source: `models:/${modelId}`, modelId, runId });
    await registry.setModelVersionTag('cfa-oak', v.version, 'image_auroc', '0.91');
    await registry.setAlias('cfa-oak', 'champion', v.version);
    const byAlias = await registry.getModelVersionByAlias('cfa-oak', 'champion');
    expect(byAlias).toMatchObject({ version: v.version, aliases: ['champion'], tags: { image_auroc: '0.91' } });
    expect((await registry.getRegisteredModel('cfa-oak')).aliases).toEqual({ champion: v.version });
    const dir = await mkdtemp(join(tmpdir(), 'registry-download-'));
    const got = await registry.downloadModel('models:/cfa-oak@champion', dir);
    expect(got.modelId).toBe(modelId);
    expect(got.files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(['MLmodel', 'bundle/model.json']);
    expect(await readFile(join(dir, 'bundle', 'model.json'), 'utf8')).toBe('{"k":1}');
    expect((await registry.resolveModelUri(`models:/cfa-oak/${v.version}`)).artifactUri).toBe(
      (await store.getLoggedModel(modelId)).artifactUri,
    );
    expect((await registry.resolveModelUri(`models:/${modelId}`)).modelId).toBe(modelId);
  });

  it('reserved aliases are refused before anything is sent; unknown names, versions and aliases are typed errors', async () => {
    const before = fake.requests.length;
    for (const alias of ['latest', 'v3', 'a/b', ''])
      await expect(registry.setAlias('cfa-oak', alias, '1'), alias).rejects.toBeInstanceOf(MlflowInvalidParameterError);
    expect(fake.requests.length).toBe(before);
    await expect(registry.getRegisteredModel('nope')).rejects.toBeInstanceOf(MlflowResourceNotFoundError);
    await expect(registry.downloadModel('models:/cfa-oak/99', tmpdir())).rejects.toBeInstanceOf(
      MlflowResourceNotFoundError,
    );
    await expect(registry.getModelVersionByAlias('cfa-oak', 'nope')).rejects.toBeInstanceOf(
      MlflowInvalidParameterError,
    );
    // a version of a logged model that does not exist: MLflow's 500, which is final, not retried
    const sent = fake.requests.length;
    const missing = `m-${'0'.repeat(32)}`;
    await expect(
      registry.createModelVersion({ name: 'cfa-oak', source: `models:/${missing}`, modelId: missing }),
    ).rejects.toBeInstanceOf(MlflowResourceNotFoundError);
    expect(fake.requests.length - sent).toBe(1);
  });

  it('a create whose answer was lost is found again, not repeated', async () => {
    const { runId, modelId } = await loggedModel('disc');
    await registry.createRegisteredModel('cfa-disc');
    fake.faults.loseNextAnswers(1, { endpoint: 'model-versions/create' });
    const v = await registry.createModelVersion({ name: 'cfa-disc', source: `models:/${modelId}`, modelId, runId });
    expect(v).toMatchObject({ version: '1', runId });
    expect(await registry.searchModelVersions('cfa-disc')).toHaveLength(1);
  });

  it('without credentials the registry gets a 401 that says what to set; a client of its own closes its own transport', async () => {
    const anonymous = new ModelRegistryClient({ uri: fake.url, env: {} });
    const error = await anonymous.getRegisteredModel('cfa-fleece').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowUnauthenticatedError);
    expect((error as Error).message).toMatch(/registered-models\/get.*MLFLOW_TRACKING_USERNAME/);
    await anonymous.close();
    // the shared transport is its owner's: closing a client on it leaves it open
    await new ModelRegistryClient(transport).close();
    expect((await registry.getRegisteredModel('cfa-fleece')).name).toBe('cfa-fleece');
  });
});
