/**
 * The REST client against the real MLflow server with its basic-auth app (`MLFLOW_AUTH=1
 * serve.sh start sqlite:///… PORT`, started here; skipped with the reason when serve.sh is
 * absent): the admin logs runs; a user with READ only gets a 403 that says so when logging to the
 * admin's experiment; a wrong password gets a 401 that says so; no password is written anywhere
 * on disk — spool, store, logs of the client; and every other client on the shared transport gets
 * in the same way: logged models with their artifacts, the Model Registry (versions, aliases), a
 * `models:/NAME@alias` download — the registry used to send no credentials and got a 401.
 */
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowPermissionDeniedError, MlflowUnauthenticatedError } from './errors';
import { ModelRegistryClient, registerModelVersion } from './model-registry';
import { RestTrackingStore } from './rest-store';
import { RestTransport } from './rest-transport';
import { SpoolingTrackingStore } from './spooling-store';
import { findServeScript, REAL_SERVER_ADMIN, type RealServer, startRealMlflow } from './testing/real-server';

const { script, reason } = findServeScript();
if (!script) process.stderr.write(`[tracking] real basic-auth server tests skipped: ${reason}\n`);

const READER = { username: 'reader', password: 'reader-secret-12345' };
const admin = {
  MLFLOW_TRACKING_USERNAME: REAL_SERVER_ADMIN.username,
  MLFLOW_TRACKING_PASSWORD: REAL_SERVER_ADMIN.password,
};

/** Every file under `dir`, for a search of secrets. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if ((await stat(p)).isFile()) out.push(p);
  }
  return out;
}

describe.skipIf(!script)("the real MLflow server with MLflow's basic-auth app", () => {
  let server: RealServer | undefined;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auth-real-'));
    server = await startRealMlflow(script!, `sqlite:///${join(dir, 'mlflow.db')}`, undefined, { auth: true });
    const created = await request(`${server.url}/api/2.0/mlflow/users/create`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${REAL_SERVER_ADMIN.username}:${REAL_SERVER_ADMIN.password}`).toString('base64')}`,
      },
      body: JSON.stringify(READER),
    });
    const answer = await created.body.text();
    if (created.statusCode >= 300) throw new Error(`users/create answered ${created.statusCode}: ${answer}`);
  }, 600_000);
  afterAll(async () => server?.stop());

  const store = (env: Record<string, string>) =>
    new RestTrackingStore({ uri: server!.url, env, retry: { attempts: 3, baseDelayMs: 50 } });

  it('the admin, with credentials from the environment, creates an experiment and logs a run', async () => {
    const s = store(admin);
    const experimentId = await s.getOrCreateExperiment('auth-admin');
    const run = await s.createRun({ experimentId, runName: 'by admin' });
    await s.logBatch(run.info.runId, { metrics: [{ key: 'loss', value: 0.5, timestamp: 1, step: 1 }] });
    await s.updateRun({ runId: run.info.runId, status: 'FINISHED', endTime: Date.now() });
    expect((await s.getRun(run.info.runId)).info).toMatchObject({ status: 'FINISHED', userId: 'admin' });
    await s.close();
  });

  it("a READ-only user logging to the admin's experiment: a 403 that names the user and says what to ask for", async () => {
    const a = store(admin);
    const experimentId = await a.getOrCreateExperiment('auth-admin');
    await a.close();
    const reader = store({ MLFLOW_TRACKING_USERNAME: READER.username, MLFLOW_TRACKING_PASSWORD: READER.password });
    // reading is allowed
    expect((await reader.getExperiment(experimentId)).name).toBe('auth-admin');
    const error = await reader.createRun({ experimentId, runName: 'not mine' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowPermissionDeniedError);
    expect((error as Error).message).toMatch(/403 \(permission denied\) for Basic auth as 'reader'.*EDIT/);
    expect((error as Error).message).not.toContain(READER.password);
    await reader.close();
  });

  it('a wrong password: a 401 at once that names the user and the variable', async () => {
    const wrong = store({ MLFLOW_TRACKING_USERNAME: 'admin', MLFLOW_TRACKING_PASSWORD: 'wrong-password-xyz' });
    const started = Date.now();
    const error = await wrong.getOrCreateExperiment('auth-admin').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowUnauthenticatedError);
    expect((error as Error).message).toMatch(/401 \(not authenticated\).*'admin'.*MLFLOW_TRACKING_PASSWORD/);
    expect((error as Error).message).not.toContain('wrong-password-xyz');
    // no retries, no backoff: one round trip (generous bound for a loaded machine)
    expect(Date.now() - started).toBeLessThan(10_000);
    await wrong.close();
    const none = store({});
    expect(await none.getOrCreateExperiment('x').catch((e: unknown) => e)).toBeInstanceOf(MlflowUnauthenticatedError);
    await none.close();
  });

  it('no credential is written anywhere: the spool and its lock hold none', async () => {
    const spoolDir = await mkdtemp(join(tmpdir(), 'auth-spool-'));
    const rest = store(admin);
    const experimentId = await rest.getOrCreateExperiment('auth-spool');
    const spooling = new SpoolingTrackingStore(rest, join(spoolDir, 'sweep.jsonl'));
    const run = await spooling.createRun({ experimentId, runName: 'spooled' });
    await spooling.logMetric(run.info.runId, 'loss', 1, 0);
    // a write that must be spooled: a run id the server does not know yet is queued behind a placeholder
    const pending = await new SpoolingTrackingStore(
      new RestTrackingStore({ uri: 'http://127.0.0.1:9', env: admin, deadlineMs: 500, retry: { attempts: 1 } }),
      join(spoolDir, 'offline.jsonl'),
    );
    const queued = await pending.createRun({ experimentId, runName: 'offline' });
    await pending.logMetric(queued.info.runId, 'loss', 2, 0);
    expect(pending.backlog).toBe(2);
    await pending.close({ flush: false });
    await spooling.close();
    const files = await filesUnder(spoolDir);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const secret of [
        REAL_SERVER_ADMIN.password,
        Buffer.from(`admin:${REAL_SERVER_ADMIN.password}`).toString('base64'),
      ])
        expect(text, file).not.toContain(secret);
    }
  });

  it('every client on one transport: a logged model with artifacts and metrics, a registered version with an alias, models:/NAME@alias downloaded', async () => {
    const transport = new RestTransport({ uri: server!.url, env: admin, retry: { attempts: 3, baseDelayMs: 50 } });
    const s = new RestTrackingStore({ transport });
    const registry = new ModelRegistryClient(transport);
    const experimentId = await s.getOrCreateExperiment('auth-models');
    const run = await s.createRun({ experimentId, runName: 'trains' });
    const model = await s.createLoggedModel({
      experimentId,
      name: 'fleece',
      sourceRunId: run.info.runId,
      params: { method: 'cfa' },
    });
    await s.logLoggedModelArtifact(model.modelId, 'MLmodel', 'flavors: {}\n');
    await s.logLoggedModelArtifact(model.modelId, 'bundle/model.json', '{"ok":true}');
    await s.logOutputs(run.info.runId, [{ modelId: model.modelId, step: 0 }]);
    await s.logBatch(run.info.runId, {
      metrics: [
        {
          key: 'image_auroc',
          value: 0.8,
          timestamp: Date.now(),
          step: 0,
          modelId: model.modelId,
          datasetName: 'fleece',
          datasetDigest: 'd',
        },
      ],
    });
    expect((await s.finalizeLoggedModel(model.modelId, 'READY')).status).toBe('READY');
    const found = await s.searchLoggedModels({ experimentIds: [experimentId] });
    expect(found.models.map((m) => [m.name, m.status, m.metrics.map((x) => [x.key, x.value, x.datasetName])])).toEqual([
      ['fleece', 'READY', [['image_auroc', 0.8, 'fleece']]],
    ]);
    const version = await registerModelVersion(registry, {
      name: 'auth-fleece',
      source: `models:/${model.modelId}`,
      modelId: model.modelId,
      runId: run.info.runId,
    });
    await registry.setAlias('auth-fleece', 'champion', version.version);
    const dir = await mkdtemp(join(tmpdir(), 'auth-download-'));
    const got = await registry.downloadModel('models:/auth-fleece@champion', dir);
    expect(got.version?.version).toBe(version.version);
    expect(await readFile(join(dir, 'bundle', 'model.json'), 'utf8')).toBe('{"ok":true}');
    await transport.close();
    const anonymous = new ModelRegistryClient({ uri: server!.url, env: {} });
    expect(await anonymous.getRegisteredModel('auth-fleece').catch((e: unknown) => e)).toBeInstanceOf(
      MlflowUnauthenticatedError,
    );
    await anonymous.close();
  });
});
