/**
 * `copyStore`: a local file store into a server — the fake one (faults, damaged runs) and the real
 * MLflow server on SQLite, the store current MLflow opens by default (started through serve.sh;
 * skipped with the reason when it is absent). Everything comes back, and a second copy adds nothing.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COPY_SOURCE_TAG, copyStore } from './copy-store';
import type { Metric, Run } from './entities';
import { FileTrackingStore } from './file-store';
import { RestTrackingStore } from './rest-store';
import { type FakeMlflowServer, startFakeMlflowServer } from './testing/fake-mlflow-server';
import { findServeScript, type RealServer, startRealMlflow } from './testing/real-server';
import { searchAllLoggedModels, searchAllRuns, type TrackingStore } from './tracking-store';

const T0 = 1_700_000_000_000;

interface Source {
  store: FileTrackingStore;
  parentId: string;
  childIds: string[];
}

/** A sweep-shaped local store: a parent, three children (FINISHED, FAILED, KILLED), one more experiment. */
async function localStore(): Promise<Source> {
  const store = new FileTrackingStore(join(await mkdtemp(join(tmpdir(), 'copy-src-')), 'mlruns'));
  const experimentId = await store.getOrCreateExperiment('ablation-loss', { 'cfa.reproduces': 'Table 5' });
  const parent = await store.createRun({
    experimentId,
    runName: 'ablation-loss (3 cells)',
    startTime: T0,
    userId: 'ana',
  });
  await store.logBatch(parent.info.runId, {
    params: [{ key: 'sweep.name', value: 'ablation-loss' }],
    tags: [{ key: 'mlflow.source.git.commit', value: 'a'.repeat(40) }],
  });
  await store.logArtifact(parent.info.runId, 'comparison.md', '| x |\n');
  const childIds: string[] = [];
  for (const [i, status] of (['FINISHED', 'FAILED', 'KILLED'] as const).entries()) {
    const child = await store.createRun({
      experimentId,
      runName: `weave loss.terms=${['none', 'att', 'att+rep'][i]} seed=0`,
      parentRunId: parent.info.runId,
      startTime: T0 + 1000 * (i + 1),
      userId: 'ana',
      tags: { 'cfa.cell.key': `k${i}` },
    });
    const id = child.info.runId;
    childIds.push(id);
    const loss: Metric[] = Array.from({ length: 30 }, (_, step) => ({
      key: 'train/loss',
      value: step === 7 ? NaN : 1 / (step + 1 + i),
      timestamp: T0 + step,
      step,
    }));
    await store.logBatch(id, {
      params: [
        { key: 'loss.terms', value: ['none', 'att', 'att+rep'][i] },
        { key: 'training.epochs', value: '30' },
      ],
      metrics: [...loss, { key: 'image_auroc', value: 0.9 + i / 100, timestamp: T0 + 99, step: 0 }],
      tags: [{ key: 'cfa.error', value: i === 1 ? 'boom' : '' }],
    });
    await store.logInputs(id, [
      {
        dataset: { name: 'weave', digest: 'trainfiles01', sourceType: 'local', source: '{"uri": "/data"}' },
        tags: { 'mlflow.data.context': 'train' },
      },
      {
        dataset: { name: 'weave', digest: 'testfiles02', sourceType: 'local', source: '{"uri": "/data"}' },
        tags: { 'mlflow.data.context': 'test' },
      },
    ]);
    if (i === 0) {
      // MLflow 3: the cell's trained model, its metrics on the test set, the run's output
      const model = await store.createLoggedModel({
        experimentId,
        name: 'weave-none',
        modelType: 'anomaly-detector',
        sourceRunId: id,
        params: { method: 'cfa' },
        tags: { 'cfa.category': 'weave' },
      });
      await store.logLoggedModelArtifact(model.modelId, 'MLmodel', 'flavors: {}\n');
      await store.logLoggedModelArtifact(model.modelId, 'bundle/model.json', '{}');
      await store.logOutputs(id, [{ modelId: model.modelId, step: 0 }]);
      await store.logBatch(id, {
        metrics: ['image_auroc', 'pixel_auroc'].map((key, k) => ({
          key: `test/${key}`,
          value: 0.8 + k / 10,
          timestamp: T0 + 100,
          step: 0,
          modelId: model.modelId,
          datasetName: 'weave',
          datasetDigest: 'testfiles02',
        })),
      });
      await store.finalizeLoggedModel(model.modelId, 'READY');
    }
    await store.logArtifact(id, 'heatmaps/test_crack_000.png', Buffer.from([137, 80, 78, 71, i]));
    await store.logArtifact(id, 'result.json', JSON.stringify({ i }));
    await store.updateRun({ runId: id, status, endTime: T0 + 5000 + i });
  }
  await store.updateRun({ runId: parent.info.runId, status: 'FINISHED', endTime: T0 + 9000 });
  const other = await store.getOrCreateExperiment('bench');
  await store.createRun({ experimentId: other, runName: 'bench resnet18', startTime: T0 + 50 });
  return { store, parentId: parent.info.runId, childIds };
}

const normalised = (run: Run) => ({
  name: run.info.runName,
  status: run.info.status,
  startTime: run.info.startTime,
  endTime: run.info.endTime,
  userId: run.info.userId,
  params: run.data.params,
  metrics: Object.fromEntries(Object.entries(run.data.metrics).map(([k, m]) => [k, [m.step, m.timestamp, m.value]])),
  inputs: run.inputs.datasetInputs
    .map((d) => `${d.dataset.name}/${d.dataset.digest}/${d.tags['mlflow.data.context']}`)
    .sort(),
});

/** The copy in `target` of each run of `source`, checked field by field; returns the copies. */
async function expectCopied(source: Source, target: TrackingStore): Promise<Map<string, Run>> {
  const experiment = (await target.getExperimentByName('ablation-loss'))!;
  expect(experiment.tags['cfa.reproduces']).toBe('Table 5');
  const copies = new Map(
    (await searchAllRuns(target, { experimentIds: [experiment.experimentId] })).map((r) => [
      r.data.tags[COPY_SOURCE_TAG],
      r,
    ]),
  );
  expect(copies.size).toBe(4);
  for (const id of [source.parentId, ...source.childIds]) {
    const [original, copy] = [await source.store.getRun(id), copies.get(id)!];
    expect(normalised(copy), id).toEqual(normalised(original));
    for (const [k, v] of Object.entries(original.data.tags)) {
      if (k === 'mlflow.parentRunId') expect(copy.data.tags[k]).toBe(copies.get(v)!.info.runId);
      else expect(copy.data.tags[k], k).toBe(v);
    }
    const history = await target.getMetricHistory(copy.info.runId, 'train/loss');
    const sent = await source.store.getMetricHistory(id, 'train/loss');
    expect(history.map((m) => [m.step, m.timestamp, m.value])).toEqual(sent.map((m) => [m.step, m.timestamp, m.value]));
  }
  // the logged model: one copy, READY, with its params, tags, artifacts, metrics (on their dataset) and run link
  const models = await searchAllLoggedModels(target, { experimentIds: [experiment.experimentId] });
  expect(models).toHaveLength(1);
  const [model] = models;
  const cell0 = copies.get(source.childIds[0])!;
  expect(model).toMatchObject({
    name: 'weave-none',
    status: 'READY',
    modelType: 'anomaly-detector',
    sourceRunId: cell0.info.runId,
    params: { method: 'cfa' },
    tags: { 'cfa.category': 'weave' },
  });
  expect(model.metrics.map((m) => [m.key, m.value, m.datasetName, m.datasetDigest, m.runId]).sort()).toEqual([
    ['test/image_auroc', 0.8, 'weave', 'testfiles02', cell0.info.runId],
    ['test/pixel_auroc', 0.9, 'weave', 'testfiles02', cell0.info.runId],
  ]);
  expect(cell0.outputs.modelOutputs).toEqual([{ modelId: model.modelId, step: 0 }]);
  expect((await target.downloadLoggedModelArtifact(model.modelId, 'bundle/model.json')).toString()).toBe('{}');
  // the value reached the run once: through the model, not again as a run metric
  expect(await target.getMetricHistory(cell0.info.runId, 'test/image_auroc')).toHaveLength(1);
  const child = copies.get(source.childIds[2])!;
  expect((await target.downloadArtifact(child.info.runId, 'heatmaps/test_crack_000.png')).toString('hex')).toBe(
    '89504e4702',
  );
  expect((await target.downloadArtifact(copies.get(source.parentId)!.info.runId, 'comparison.md')).toString()).toBe(
    '| x |\n',
  );
  return copies;
}

/** `store`, with its `n`-th artifact upload failing (a link that goes down mid-copy). */
function failingUpload(store: TrackingStore, n: number): TrackingStore {
  let uploads = 0;
  return new Proxy(store, {
    get(target, key) {
      if (key === 'logArtifact')
        return async (...args: Parameters<TrackingStore['logArtifact']>) => {
          if (++uploads === n) throw new Error('the link went down');
          return target.logArtifact(...args);
        };
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('copyStore into a server (fake)', () => {
  let fake: FakeMlflowServer;
  beforeAll(async () => {
    fake = await startFakeMlflowServer();
  });
  afterAll(() => fake.close());

  it('copies every experiment, run, param, metric history, tag, input and artifact; a second copy adds nothing', async () => {
    const source = await localStore();
    const target = new RestTrackingStore({ uri: fake.url, retry: { baseDelayMs: 5 } });
    const first = await copyStore({ from: source.store, to: target });
    expect(first).toMatchObject({
      experiments: 3,
      runsCreated: 5,
      runsExisting: 0,
      inputs: 6,
      artifacts: 7,
      modelsCreated: 1,
      modelMetrics: 2,
      modelArtifacts: 2,
      skipped: [],
    });
    expect(first.metricPoints).toBe(3 * 31);
    await expectCopied(source, target);
    const before = fake.requests.filter((r) => r.method !== 'GET' && !r.path.endsWith('/search')).length;
    const second = await copyStore({ from: source.store, to: target });
    expect(second).toMatchObject({
      runsCreated: 0,
      runsExisting: 5,
      params: 0,
      tags: 0,
      metricPoints: 0,
      inputs: 0,
      artifacts: 0,
      modelsCreated: 0,
      modelsExisting: 1,
      modelMetrics: 0,
      modelArtifacts: 0,
    });
    // nothing written the second time: only reads (and the experiments' get-or-create lookups)
    expect(fake.requests.filter((r) => r.method !== 'GET' && !r.path.endsWith('/search')).length).toBe(before);
    await expectCopied(source, target);
    await target.close();
  });

  it('an interrupted copy is completed by the next one, with nothing twice', async () => {
    const source = await localStore();
    const fresh = await startFakeMlflowServer();
    const target = new RestTrackingStore({ uri: fresh.url, retry: { attempts: 1 } });
    await expect(copyStore({ from: source.store, to: failingUpload(target, 4) })).rejects.toThrow(/link went down/);
    const experiments = await Promise.all(['ablation-loss', 'bench'].map((n) => target.getExperimentByName(n)));
    const partial = await searchAllRuns(target, { experimentIds: experiments.map((e) => e!.experimentId) });
    // the status is set last: the run cut short is still RUNNING (the bench run is RUNNING in the source too)
    expect(partial.filter((r) => r.info.status === 'RUNNING' && r.info.runName !== 'bench resnet18')).toHaveLength(1);
    const resumed = await copyStore({ from: source.store, to: target });
    expect(resumed.runsExisting).toBe(partial.length);
    await expectCopied(source, target);
    await target.close();
    await fresh.close();
  });

  it('a run whose files are damaged is reported by file, and the rest is copied', async () => {
    const source = await localStore();
    const meta = join(
      source.store.root,
      (await source.store.getRun(source.childIds[1])).info.experimentId,
      source.childIds[1],
      'meta.yaml',
    );
    await writeFile(meta, 'status: [unclosed\n');
    const fresh = await startFakeMlflowServer();
    const target = new RestTrackingStore({ uri: fresh.url });
    const report = await copyStore({ from: source.store, to: target });
    expect(report.runsCreated).toBe(4);
    expect(report.skipped).toEqual([{ what: `run ${source.childIds[1]}`, reason: expect.stringContaining(meta) }]);
    await target.close();
    await fresh.close();
  });
});

const { script, reason } = findServeScript();
if (!script) process.stderr.write(`[tracking] copy into the real MLflow server on SQLite: skipped, ${reason}\n`);

describe.skipIf(!script)('copyStore into the real MLflow server on SQLite (sync-runs --from-store)', () => {
  let server: RealServer | undefined;
  let target: RestTrackingStore;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'copy-sqlite-'));
    server = await startRealMlflow(script!, `sqlite:///${join(dir, 'mlflow.db')}`);
    target = new RestTrackingStore({ uri: server.url, retry: { attempts: 3, baseDelayMs: 100 } });
  }, 600_000);
  afterAll(async () => {
    await target?.close();
    await server?.stop();
  });

  it('everything comes back through the server, and a second copy duplicates nothing', async () => {
    const source = await localStore();
    const first = await copyStore({ from: source.store, to: target });
    expect(first).toMatchObject({
      runsCreated: 5,
      inputs: 6,
      artifacts: 7,
      modelsCreated: 1,
      modelMetrics: 2,
      skipped: [],
    });
    const copies = await expectCopied(source, target);
    const second = await copyStore({ from: source.store, to: target });
    expect(second).toMatchObject({
      runsCreated: 0,
      runsExisting: 5,
      params: 0,
      tags: 0,
      metricPoints: 0,
      inputs: 0,
      artifacts: 0,
      modelsCreated: 0,
      modelMetrics: 0,
      modelArtifacts: 0,
    });
    const again = await expectCopied(source, target);
    expect([...again.values()].map((r) => r.info.runId).sort()).toEqual(
      [...copies.values()].map((r) => r.info.runId).sort(),
    );
    for (const run of again.values())
      expect((await target.getMetricHistory(run.info.runId, 'train/loss')).length).toBe(
        run.data.tags['cfa.cell.key'] ? 30 : 0,
      );
  }, 300_000);
});
