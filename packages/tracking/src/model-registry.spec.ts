/**
 * The Model Registry client: what it sends (a stub server records it), that a retried
 * `model-versions/create` never makes a second version, typed errors — and, when the project's
 * MLflow server script is at hand, a registration read back from the real server.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowResourceAlreadyExistsError, MlflowResourceNotFoundError } from './errors';
import { ModelRegistryClient, registerModelVersion } from './model-registry';
import { RestTrackingStore } from './rest-store';
import { findServeScript, freePort, type RealServer, startRealMlflow } from './testing/real-server';

interface Recorded {
  method: string;
  path: string;
  body: Record<string, unknown>;
}

/** A registry of the wire format's shape; `failNextCreate` answers 500 once after making the version. */
function stubRegistry() {
  const models = new Map<string, { versions: Record<string, unknown>[] }>();
  const requests: Recorded[] = [];
  const state = { failNextCreate: false };
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let s = '';
      req.on('data', (d) => (s += d));
      req.on('end', () => resolve(s));
    });
  const server = createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://x');
    const body = req.method === 'POST' ? JSON.parse((await read(req)) || '{}') : Object.fromEntries(url.searchParams);
    const path = url.pathname.replace('/api/2.0/mlflow/', '');
    requests.push({ method: req.method!, path, body });
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    if (path === 'registered-models/create') {
      if (models.has(body.name)) return send(400, { error_code: 'RESOURCE_ALREADY_EXISTS', message: 'taken' });
      models.set(body.name, { versions: [] });
      return send(200, { registered_model: { name: body.name, creation_timestamp: 1 } });
    }
    if (path === 'registered-models/get') {
      const m = models.get(body.name);
      if (!m) return send(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `no ${body.name}` });
      return send(200, { registered_model: { name: body.name, latest_versions: m.versions.slice(-1) } });
    }
    if (path === 'model-versions/create') {
      const m = models.get(body.name)!;
      const version = {
        name: body.name,
        version: String(m.versions.length + 1),
        source: body.source,
        run_id: body.run_id,
        status: 'READY',
      };
      m.versions.push(version);
      if (state.failNextCreate) {
        state.failNextCreate = false;
        return send(500, { error_code: 'INTERNAL_ERROR', message: 'lost answer' });
      }
      return send(200, { model_version: version });
    }
    if (path === 'model-versions/search') {
      const name = /name='(.*)'/.exec(String(body.filter))![1];
      return send(200, { model_versions: models.get(name)?.versions ?? [] });
    }
    send(404, { error_code: 'ENDPOINT_NOT_FOUND', message: path });
  });
  return { server, models, requests, state };
}

describe('ModelRegistryClient (stub server)', () => {
  let stub: ReturnType<typeof stubRegistry>;
  let client: ModelRegistryClient;
  beforeAll(async () => {
    stub = stubRegistry();
    await new Promise<void>((r) => stub.server.listen(0, '127.0.0.1', r));
    const { port } = stub.server.address() as { port: number };
    client = new ModelRegistryClient({ uri: `http://127.0.0.1:${port}`, retry: { baseDelayMs: 1 } });
  });
  afterAll(async () => {
    await client.close();
    await new Promise((r) => (stub.server as Server).close(r));
  });

  it('registers: creates the model once, then numbered versions with source and run_id in snake case', async () => {
    const a = await registerModelVersion(client, { name: 'cfa-weave', source: 's3://x/1', runId: 'r1' });
    const b = await registerModelVersion(client, { name: 'cfa-weave', source: 's3://x/2', runId: 'r2' });
    expect([a.version, b.version]).toEqual(['1', '2']);
    expect(b).toMatchObject({ name: 'cfa-weave', source: 's3://x/2', runId: 'r2', status: 'READY' });
    const create = stub.requests.filter((r) => r.path === 'model-versions/create');
    expect(create[0].body).toEqual({ name: 'cfa-weave', source: 's3://x/1', run_id: 'r1' });
    await expect(client.createRegisteredModel('cfa-weave')).rejects.toBeInstanceOf(MlflowResourceAlreadyExistsError);
    expect((await client.getRegisteredModel('cfa-weave')).latestVersions.map((v) => v.version)).toEqual(['2']);
  });

  it('a create whose answer was lost is found again, not repeated', async () => {
    stub.state.failNextCreate = true;
    const v = await registerModelVersion(client, { name: 'cfa-disc', source: 'file:///m', runId: 'r9' });
    expect(v).toMatchObject({ version: '1', source: 'file:///m', runId: 'r9' });
    expect(stub.models.get('cfa-disc')!.versions).toHaveLength(1);
  });

  it('an unknown model is MlflowResourceNotFoundError; a bad URI is refused up front', async () => {
    await expect(client.getRegisteredModel('nope')).rejects.toBeInstanceOf(MlflowResourceNotFoundError);
    expect(() => new ModelRegistryClient({ uri: 'ftp://x' })).toThrow(/expected an http:\/\/ or https:\/\/ URL/);
  });
});

const { script, reason } = findServeScript();
if (!script) process.stderr.write(`[tracking] model registry on the real MLflow server: skipped, ${reason}\n`);

describe.skipIf(!script)('ModelRegistryClient against the real MLflow server', () => {
  let server: RealServer;
  beforeAll(async () => {
    const root = await mkdtemp(join(tmpdir(), 'registry-real-'));
    const port = Number(process.env.CFA_TEST_MLFLOW_PORT) || (await freePort());
    server = await startRealMlflow(script!, join(root, 'mlruns'), port);
  }, 600_000);
  afterAll(async () => server?.stop());

  it('registers a logged model folder twice and reads both versions back', async () => {
    const store = new RestTrackingStore({ uri: server.url });
    const experimentId = await store.getOrCreateExperiment('registry-test');
    const run = await store.createRun({ experimentId, runName: 'fit' });
    await store.logArtifact(run.info.runId, 'mlflow-model/MLmodel', 'flavors: {}\n');
    const registry = new ModelRegistryClient({ uri: server.url });
    const source = `${run.info.artifactUri}/mlflow-model`;
    const first = await registerModelVersion(registry, { name: 'cfa-real', source, runId: run.info.runId });
    const second = await registerModelVersion(registry, { name: 'cfa-real', source, runId: run.info.runId });
    expect([first.version, second.version]).toEqual(['1', '2']);
    const read = await registry.getModelVersion('cfa-real', '2');
    expect(read).toMatchObject({ name: 'cfa-real', version: '2', source, runId: run.info.runId });
    expect((await registry.searchModelVersions('cfa-real')).map((v) => v.version).sort()).toEqual(['1', '2']);
    expect((await registry.getRegisteredModel('cfa-real')).name).toBe('cfa-real');
    await registry.close();
    await store.close();
  });
});
