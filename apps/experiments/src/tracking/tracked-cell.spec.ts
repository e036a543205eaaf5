/**
 * The exactly-once guard of a cell run: an attempt that no longer owns its cell (a lost job lock,
 * or another attempt that closed its run meanwhile) never marks its run FINISHED. And the cell's
 * trained model: an MLflow 3 logged model with its files, params and tags, its final metrics tied
 * to it and to the test set; kept among the run's artifacts when the server cannot take it.
 */
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectEngine } from '@cfa/tensor-runtime';
import { FileTrackingStore, MlflowUnavailableError, searchAllLoggedModels } from '@cfa/tracking';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadSweep } from '../sweep/load-sweep';
import { openSweepParent } from '../sweep/sweep-runs';
import { TINY_BASE, tinyDataset } from '../testing/tiny-dataset';
import {
  CFA_TAGS,
  CellSupersededError,
  EVALUATION_METRIC_KEY_SET,
  FINAL_METRIC_KEYS,
  findCellRuns,
  runClosedByAnotherAttempt,
  runTrackedCell,
} from './tracked-cell';
import { modelFromRunArtifacts } from './cell-model';
import { writeSweepFile } from '../testing/sweep-file';

let dir: string;
let file: string;
beforeAll(async () => {
  const dataRoot = await tinyDataset(['weave']);
  dir = await mkdtemp(join(tmpdir(), 'tracked-cell-'));
  file = await writeSweepFile(dir, {
    name: 'one-cell',
    reproduces: 'test',
    dataRoot,
    categories: ['weave'],
    heatmaps: 0,
    base: TINY_BASE,
    axes: [{ grid: { 'loss.terms': ['att'] } }],
    report: { metrics: ['imageAuroc'] },
  });
});

async function runOnce(
  ownershipLost: (
    store: FileTrackingStore,
    experimentId: string,
    parentRunId: string,
    runId: string,
  ) => Promise<string | undefined>,
  patch?: (store: FileTrackingStore) => void,
) {
  const store = new FileTrackingStore(join(dir, `mlruns-${Math.random().toString(36).slice(2)}`));
  patch?.(store);
  const loaded = await loadSweep(file);
  const parent = await openSweepParent(store, loaded);
  const engine = await selectEngine({ requested: 'auto', tfBackend: 'wasm', threads: 1 });
  const outcome = await runTrackedCell({
    store,
    experimentId: parent.experimentId,
    parentRunId: parent.parentRunId,
    sweepName: 'one-cell',
    cell: loaded.cells[0],
    engine,
    outDir: join(dir, 'out'),
    ownershipLost: (runId) => ownershipLost(store, parent.experimentId, parent.parentRunId, runId),
  });
  const run = await store.getRun(outcome.runId);
  return { outcome, run, store, experimentId: parent.experimentId };
}

describe('runTrackedCell', () => {
  it('marks the run FINISHED when the attempt still owns the cell; its model is a READY logged model, its metrics tied to it and the test set', async () => {
    const { outcome, run, store, experimentId } = await runOnce(async (store, _e, _p, runId) =>
      runClosedByAnotherAttempt(store, runId),
    );
    expect(outcome.error).toBeUndefined();
    expect(run.info.status).toBe('FINISHED');
    const [model] = await searchAllLoggedModels(store, { experimentIds: [experimentId] });
    expect(outcome.model?.modelId).toBe(model.modelId);
    expect(model).toMatchObject({
      status: 'READY',
      sourceRunId: run.info.runId,
      modelType: 'anomaly-detection',
      params: run.data.params,
      tags: { 'cfa.method': 'cfa', 'cfa.category': 'weave', 'cfa.sweep': 'one-cell' },
    });
    expect(run.outputs.modelOutputs).toEqual([{ modelId: model.modelId, step: 0 }]);
    const test = run.inputs.datasetInputs.find((d) => d.tags['mlflow.data.context'] === 'test')!.dataset;
    const auroc = model.metrics.find((m) => m.key === 'image_auroc')!;
    expect(auroc).toMatchObject({ datasetName: 'weave', datasetDigest: test.digest, runId: run.info.runId });
    expect(auroc.value).toBe(run.data.metrics.image_auroc.value);
    expect(model.metrics.find((m) => m.key === 'total_seconds')?.datasetName).toBeUndefined();
    // the folder: the MLflow Model at the root, naming its model_id; the bundle in model/
    const files = (await store.listLoggedModelArtifacts(model.modelId)).map((a) => a.path);
    expect(files).toEqual(expect.arrayContaining(['MLmodel', 'model.onnx', 'model']));
    const mlmodel = parse((await store.downloadLoggedModelArtifact(model.modelId, 'MLmodel')).toString('utf8'));
    expect(mlmodel).toMatchObject({
      model_id: model.modelId,
      artifact_path: model.artifactUri,
      run_id: run.info.runId,
    });
    expect((await store.listLoggedModelArtifacts(model.modelId, 'model')).length).toBeGreaterThan(0);
    // one copy of the model: in the logged model, not again among the run's artifacts
    expect((await store.listArtifacts(run.info.runId)).map((a) => a.path)).not.toContain('model');
    expect(JSON.parse(run.data.tags['mlflow.log-model.history'])[0]).toMatchObject({ model_id: model.modelId });
  });

  it("a model the server cannot take stays among the run's artifacts, tagged, and the run still FINISHES with its metrics", async () => {
    const { outcome, run, store } = await runOnce(
      async () => undefined,
      (store) => {
        store.createLoggedModel = () =>
          Promise.reject(new MlflowUnavailableError('the server went away', 'UNAVAILABLE'));
      },
    );
    expect(outcome.error).toBeUndefined();
    expect(run.info.status).toBe('FINISHED');
    expect(run.data.tags[CFA_TAGS.loggedModelError]).toMatch(/the server went away/);
    expect(run.data.metrics.image_auroc.datasetName).toBe('weave');
    expect(run.outputs.modelOutputs).toEqual([]);
    // what sync-runs makes the logged model from, once the server takes it
    expect((await store.listArtifacts(run.info.runId)).map((a) => a.path)).toEqual(
      expect.arrayContaining(['mlflow-model', 'model']),
    );
    delete (store as Partial<FileTrackingStore>).createLoggedModel; // the server is back
    const model = await modelFromRunArtifacts(store, run, FINAL_METRIC_KEYS, EVALUATION_METRIC_KEY_SET);
    expect(model).toMatchObject({ status: 'READY', sourceRunId: run.info.runId, params: run.data.params });
    expect(model.metrics.find((m) => m.key === 'image_auroc')).toMatchObject({
      value: run.data.metrics.image_auroc.value,
      datasetName: 'weave',
      runId: run.info.runId,
    });
    expect((await store.getRun(run.info.runId)).outputs.modelOutputs).toEqual([{ modelId: model.modelId, step: 0 }]);
    const mlmodel = parse((await store.downloadLoggedModelArtifact(model.modelId, 'MLmodel')).toString('utf8'));
    expect(mlmodel.model_id).toBe(model.modelId);
    expect((await store.listLoggedModelArtifacts(model.modelId, 'model')).length).toBeGreaterThan(0);
  });

  it('closes the run KILLED with the reason when the attempt lost its job', async () => {
    const { outcome, run } = await runOnce(async () => 'worker w1 lost the lock of job j1');
    expect(outcome.error).toBeInstanceOf(CellSupersededError);
    expect(run.info.status).toBe('KILLED');
    expect(run.data.tags[CFA_TAGS.error]).toBe('superseded: worker w1 lost the lock of job j1');
  });

  it('does not overwrite a KILLED set by another attempt while this one was computing, and reads an unreachable server as still running', async () => {
    // the other attempt's update lands just before this one would finish
    const { outcome, run } = await runOnce(async (store, experimentId, parentRunId, runId) => {
      const [running] = await findCellRuns(store, experimentId, parentRunId, (await loadSweep(file)).cells[0].key);
      expect(running.info.runId).toBe(runId);
      expect(await runClosedByAnotherAttempt(store, runId)).toBeUndefined();
      await store.updateRun({ runId, status: 'KILLED', endTime: Date.now() });
      return runClosedByAnotherAttempt(store, runId);
    });
    expect(outcome.error).toBeInstanceOf(CellSupersededError);
    expect(run.info.status).toBe('KILLED');
    expect(run.data.tags[CFA_TAGS.error]).toMatch(/another attempt closed this run \(KILLED\)/);
    const unreachable = {
      getRun: () => Promise.reject(new Error('connect ECONNREFUSED')),
    } as unknown as FileTrackingStore;
    expect(await runClosedByAnotherAttempt(unreachable, run.info.runId)).toBeUndefined();
  });

  it('on the embedded default, draws only its own category before naming the dataset input', async () => {
    const home = await mkdtemp(join(tmpdir(), 'tracked-default-'));
    const sweepFile = join(home, 'default-data.yaml');
    await writeFile(
      sweepFile,
      stringify({ name: 'default-data', reproduces: 'test', categories: ['oak'], heatmaps: 0, base: TINY_BASE }),
    );
    const cwd = process.cwd();
    process.chdir(home); // the embedded default is ./data/synthetic
    try {
      const store = new FileTrackingStore(join(home, 'mlruns'));
      const loaded = await loadSweep(sweepFile);
      const parent = await openSweepParent(store, loaded);
      // stop right after the dataset is ensured: the input is what needs the files
      store.logInputs = () => Promise.reject(new Error('stop here'));
      const outcome = await runTrackedCell({
        store,
        experimentId: parent.experimentId,
        parentRunId: parent.parentRunId,
        sweepName: 'default-data',
        cell: loaded.cells[0],
        engine: await selectEngine({ requested: 'auto', tfBackend: 'wasm', threads: 1 }),
        outDir: join(home, 'out'),
        ownershipLost: async () => undefined,
      });
      expect(outcome.error?.message).toBe('stop here');
      expect((await readdir(join(home, 'data', 'synthetic'))).filter((f) => !f.startsWith('.'))).toEqual(['oak']);
    } finally {
      process.chdir(cwd);
    }
  });
});
