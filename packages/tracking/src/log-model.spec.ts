/**
 * `logModel`: a trained model logged as MLflow 3 logs one — PENDING, the run's output, files
 * uploaded, metrics through the run with the model's id, READY; UPLOAD_FAILED when a file cannot
 * be uploaded, and the error goes on — from a local folder or from a run's artifacts.
 */
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localFiles, logModel, runArtifactFiles } from './log-model';
import { RestTrackingStore } from './rest-store';
import { type FakeMlflowServer, startFakeMlflowServer } from './testing/fake-mlflow-server';

describe('logModel (fake server)', () => {
  let fake: FakeMlflowServer;
  let store: RestTrackingStore;
  let experimentId: string;
  beforeAll(async () => {
    fake = await startFakeMlflowServer();
    store = new RestTrackingStore({ uri: fake.url, retry: { attempts: 1 } });
    experimentId = await store.getOrCreateExperiment('log-model');
  });
  afterAll(async () => {
    await store.close();
    await fake.close();
  });

  it('from a local folder: READY, linked to the run, every file, metrics with the model and dataset', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'model-'));
    await mkdir(join(dir, 'bundle'));
    await writeFile(join(dir, 'MLmodel'), 'flavors: {}\n');
    await writeFile(join(dir, 'bundle', 'weights.bin'), Buffer.from([1, 2, 3]));
    // a write an interrupt left behind is not part of the model
    await writeFile(join(dir, 'bundle', '.tmp-123-weights.bin'), Buffer.from([9]));
    const { runId } = (await store.createRun({ experimentId, runName: 'cell' })).info;
    const model = await logModel(store, {
      experimentId,
      runId,
      name: 'weave-cfa',
      modelType: 'anomaly-detector',
      params: { method: 'cfa' },
      files: await localFiles(dir),
      metrics: [{ key: 'image_auroc', value: 0.9, timestamp: 1, step: 0, datasetName: 'weave', datasetDigest: 'd' }],
    });
    expect(model).toMatchObject({ status: 'READY', name: 'weave-cfa', sourceRunId: runId, params: { method: 'cfa' } });
    expect(model.metrics).toMatchObject([{ key: 'image_auroc', value: 0.9, datasetName: 'weave', runId }]);
    expect((await store.getRun(runId)).outputs.modelOutputs).toEqual([{ modelId: model.modelId, step: 0 }]);
    expect((await store.listLoggedModelArtifacts(model.modelId)).map((a) => a.path)).toEqual(['MLmodel', 'bundle']);
    expect([...(await store.downloadLoggedModelArtifact(model.modelId, 'bundle/weights.bin'))]).toEqual([1, 2, 3]);
    expect((await store.listLoggedModelArtifacts(model.modelId, 'bundle')).map((a) => a.path)).toEqual([
      'bundle/weights.bin',
    ]);
  });

  it("from a run's artifacts, under a prefix", async () => {
    const { runId } = (await store.createRun({ experimentId, runName: 'logged before' })).info;
    await store.logArtifact(runId, 'mlflow-model/MLmodel', 'flavors: {}\n');
    await store.logArtifact(runId, 'mlflow-model/sub/model.onnx', 'onnx');
    await store.logArtifact(runId, 'model/model.json', '{}');
    const files = [
      ...(await runArtifactFiles(store, runId, 'mlflow-model')),
      ...(await runArtifactFiles(store, runId, 'model', 'bundle')),
    ];
    expect(files.map((f) => f.path)).toEqual(['MLmodel', 'sub/model.onnx', 'bundle/model.json']);
    const model = await logModel(store, { experimentId, runId, files });
    expect((await store.downloadLoggedModelArtifact(model.modelId, 'bundle/model.json')).toString()).toBe('{}');
  });

  it('an upload that fails: the model is UPLOAD_FAILED and the error goes on', async () => {
    const { runId } = (await store.createRun({ experimentId, runName: 'cell' })).info;
    fake.faults.failNext(1, 400, { endpoint: 'weights.bin', errorCode: 'INVALID_PARAMETER_VALUE' });
    const files = [
      { path: 'MLmodel', read: async () => Buffer.from('x') },
      { path: 'weights.bin', read: async () => Buffer.from('y') },
    ];
    await expect(logModel(store, { experimentId, runId, name: 'broken', files })).rejects.toThrow(/injected failure/);
    const [model] = (await store.searchLoggedModels({ experimentIds: [experimentId], filter: "name = 'broken'" }))
      .models;
    expect(model.status).toBe('UPLOAD_FAILED');
  });
});
