/**
 * The local store read back by MLflow itself: runs written with `FileTrackingStore` into a temp
 * folder, then the real MLflow server started with that folder as `--backend-store-uri`
 * (`serve.sh start <dir> <free port>`), and everything read back over REST — which is what
 * `mlflow ui --backend-store-uri ./mlruns` shows a user. Where the script is: `MLFLOW_SERVE_SCRIPT`,
 * else `../shared/mlflow-server/serve.sh` beside the repository root; without it the suite skips
 * and says why.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoggedModel, Metric, Run } from './entities';
import { FileTrackingStore } from './file-store';
import { dumpMetaYaml, parseMetaYaml } from './meta-yaml';
import { RestTrackingStore } from './rest-store';
import { findServeScript, type RealServer, startRealMlflow } from './testing/real-server';
import { searchAllRuns } from './tracking-store';

const { script, reason } = findServeScript();
if (!script) process.stderr.write(`[tracking] local store read back by the real MLflow server: skipped, ${reason}\n`);

const T0 = 1_700_000_000_000;
/** Names that exercise MLflow's YAML: quoted because they would read as a bool, an int, a mapping; folded past 80 columns; escaped. */
const CHILD_NAMES = [
  'yes',
  '0042',
  'cell: weave att+rep',
  `${'a long run name '.repeat(7)}end`,
  "it's 🚀 done",
  'tab\there',
];

describe.skipIf(!script)('the local file store, read back by the real MLflow server', () => {
  let server: RealServer | undefined;
  let root: string;
  let file: FileTrackingStore;
  let rest: RestTrackingStore;
  let experimentId: string;
  let parentId: string;
  const childIds: string[] = [];
  let modelId: string;
  const histories = new Map<string, Metric[]>();

  beforeAll(async () => {
    root = join(await mkdtemp(join(tmpdir(), 'readback-')), 'mlruns');
    file = new FileTrackingStore(root);
    experimentId = await file.getOrCreateExperiment('readback: sweep', { 'sweep/name': 'demo', note: 'x'.repeat(300) });
    const parent = await file.createRun({ experimentId, runName: 'sweep demo', startTime: T0 });
    parentId = parent.info.runId;
    await file.logBatch(parentId, {
      params: [
        { key: 'sweep.name', value: 'demo' },
        { key: 'long', value: 'p'.repeat(6000) },
      ],
      tags: [{ key: 'cfa.sweep', value: 'demo' }],
    });
    await file.logArtifact(parentId, 'sweep.yaml', 'name: demo\n');
    const statuses = ['FINISHED', 'FAILED', 'KILLED', 'FINISHED', 'SCHEDULED', 'RUNNING'] as const;
    for (const [c, runName] of CHILD_NAMES.entries()) {
      const child = await file.createRun({
        experimentId,
        runName,
        parentRunId: parentId,
        startTime: T0 + 1000 * (c + 1),
        tags: { 'cfa.cell': `k${c}` },
      });
      childIds.push(child.info.runId);
      const metrics: Metric[] = [
        ...Array.from({ length: 40 }, (_, step) => ({
          key: 'train/loss',
          value: 1 / (step + 1 + c),
          timestamp: T0 + step,
          step,
        })),
        { key: 'image_auroc', value: 0.9 + c / 100, timestamp: T0 + 50, step: 0 },
        { key: 'pixel_aupro', value: NaN, timestamp: T0 + 50, step: 0 },
        { key: 'odd values', value: c % 2 ? Infinity : -Infinity, timestamp: T0 + 51, step: -1 },
        { key: 'odd values', value: 1e-5 * (c + 1), timestamp: T0 + 52, step: 7 },
        { key: 'odd values', value: 12345678901234567890, timestamp: T0 + 53, step: 8 },
      ];
      await file.logBatch(child.info.runId, {
        params: [
          { key: 'loss.terms', value: 'att+rep' },
          { key: 'descriptor/gammaD', value: String(c + 1) },
          { key: 'yes', value: 'no' },
        ],
        metrics,
        tags: [{ key: 'mlflow.note.content', value: `cell ${c}\nsecond line` }],
      });
      for (const key of new Set(metrics.map((m) => m.key)))
        histories.set(
          `${child.info.runId}/${key}`,
          metrics.filter((m) => m.key === key),
        );
      await file.logInputs(child.info.runId, [
        {
          dataset: { name: runName, digest: `d${c}train`, sourceType: 'local', source: '{"uri": "/data/mvtec"}' },
          tags: { 'mlflow.data.context': 'train' },
        },
        {
          dataset: {
            name: runName,
            digest: `d${c}test`,
            sourceType: 'local',
            source: '{"uri": "/data/mvtec"}',
            profile: '{"images": 12, "defective": 8}',
          },
          tags: { 'mlflow.data.context': 'test' },
        },
      ]);
      await file.logArtifact(child.info.runId, 'heatmaps/a b.png', Buffer.from([1, 2, 3, c]));
      await file.logArtifact(child.info.runId, 'metrics.json', JSON.stringify({ c }));
      await file.updateRun({ runId: child.info.runId, status: statuses[c], endTime: T0 + 5000 + c });
    }
    await file.updateRun({ runId: parentId, status: 'FINISHED', endTime: T0 + 9000 });
    // MLflow 3's logged model of the first cell: params, tags, artifacts, metrics on a dataset, the run's output
    const model = await file.createLoggedModel({
      experimentId,
      name: 'cell-0',
      modelType: 'anomaly-detector',
      sourceRunId: childIds[0],
      params: { method: 'cfa', 'descriptor/gammaD': '1' },
      tags: { 'cfa.category': 'yes' },
    });
    modelId = model.modelId;
    await file.logLoggedModelArtifact(modelId, 'MLmodel', 'flavors: {}\n');
    await file.logLoggedModelArtifact(modelId, 'bundle/model.json', '{"c":0}');
    await file.logOutputs(childIds[0], [{ modelId, step: 0 }]);
    await file.logBatch(childIds[0], {
      metrics: [
        {
          key: 'test/image_auroc',
          value: 0.875,
          timestamp: T0 + 60,
          step: 0,
          modelId,
          datasetName: 'yes',
          datasetDigest: 'd0test',
        },
        { key: 'test/pixel_aupro', value: NaN, timestamp: T0 + 60, step: 0, modelId },
      ],
    });
    await file.finalizeLoggedModel(modelId, 'READY');
    server = await startRealMlflow(script!, root);
    rest = new RestTrackingStore({ uri: server.url, retry: { attempts: 3, baseDelayMs: 100 } });
  }, 600_000);

  afterAll(async () => {
    await rest?.close();
    await server?.stop();
  });

  it('finds the experiment with its tags, and every run', async () => {
    const e = await rest.getExperimentByName('readback: sweep');
    expect(e).toEqual(await file.getExperimentByName('readback: sweep'));
    expect(e?.tags).toEqual({ 'sweep/name': 'demo', note: 'x'.repeat(300) });
    const runs = await searchAllRuns(rest, { experimentIds: [experimentId] });
    expect(runs.map((r) => r.info.runId).sort()).toEqual([parentId, ...childIds].sort());
  });

  it('every run comes back exactly as written: info (names, statuses, times), params, tags, latest metrics, dataset inputs', async () => {
    const sorted = (run: Run) => ({
      ...run,
      inputs: {
        datasetInputs: [...run.inputs.datasetInputs].sort((a, b) => (a.dataset.digest < b.dataset.digest ? -1 : 1)),
      },
    });
    for (const runId of [parentId, ...childIds]) {
      const [viaServer, local] = await Promise.all([rest.getRun(runId), file.getRun(runId)]);
      expect(sorted(viaServer), runId).toEqual(sorted(local));
    }
    expect(
      (await rest.getRun(childIds[0])).inputs.datasetInputs.map((d) => d.tags['mlflow.data.context']).sort(),
    ).toEqual(['test', 'train']);
    const children = await searchAllRuns(rest, {
      experimentIds: [experimentId],
      filter: `tags.\`mlflow.parentRunId\` = '${parentId}'`,
    });
    expect(children.map((r) => r.info.runName).sort()).toEqual([...CHILD_NAMES].sort());
    const c2 = await rest.getRun(childIds[2]);
    expect(c2.info).toMatchObject({
      runName: 'cell: weave att+rep',
      status: 'KILLED',
      startTime: T0 + 3000,
      endTime: T0 + 5002,
    });
    expect(c2.data.params).toEqual({ 'loss.terms': 'att+rep', 'descriptor/gammaD': '3', yes: 'no' });
    expect(c2.data.tags).toMatchObject({
      'mlflow.parentRunId': parentId,
      'mlflow.runName': 'cell: weave att+rep',
      'cfa.cell': 'k2',
      'mlflow.note.content': 'cell 2\nsecond line',
    });
    expect((await rest.getRun(parentId)).data.params.long).toHaveLength(6000);
  });

  it('every metric history comes back with its steps, timestamps and values (NaN, ±Infinity included)', async () => {
    for (const [id, sent] of histories) {
      const [runId, key] = [id.slice(0, 32), id.slice(33)];
      const got = await rest.getMetricHistory(runId, key);
      expect(
        got.map((m) => [m.step, m.timestamp, m.value]),
        id,
      ).toEqual(sent.map((m) => [m.step, m.timestamp, m.value]));
    }
  });

  it('artifacts are listed and downloaded through the server (the run artifact_uri is the file:// folder)', async () => {
    expect(await rest.listArtifacts(parentId)).toEqual([{ path: 'sweep.yaml', isDir: false, fileSize: 11 }]);
    for (const [c, runId] of childIds.entries()) {
      expect(await rest.listArtifacts(runId)).toEqual(await file.listArtifacts(runId));
      expect(await rest.listArtifacts(runId, 'heatmaps')).toEqual([
        { path: 'heatmaps/a b.png', isDir: false, fileSize: 4 },
      ]);
      expect([...(await rest.downloadArtifact(runId, 'heatmaps/a b.png'))]).toEqual([1, 2, 3, c]);
    }
    expect((await rest.downloadArtifact(parentId, 'sweep.yaml')).toString()).toBe('name: demo\n');
  });

  it('the logged model is read as written: info, params, tags, metrics with their dataset and run, the run output, artifacts', async () => {
    const byKey = (m: LoggedModel) => ({ ...m, metrics: [...m.metrics].sort((a, b) => (a.key < b.key ? -1 : 1)) });
    const [viaServer, local] = await Promise.all([rest.getLoggedModel(modelId), file.getLoggedModel(modelId)]);
    expect(byKey(viaServer)).toEqual(byKey(local));
    expect(viaServer).toMatchObject({ status: 'READY', name: 'cell-0', sourceRunId: childIds[0] });
    expect(viaServer.metrics.find((m) => m.key === 'test/image_auroc')).toMatchObject({
      value: 0.875,
      datasetName: 'yes',
      datasetDigest: 'd0test',
      runId: childIds[0],
    });
    const found = await rest.searchLoggedModels({
      experimentIds: [experimentId],
      filter: 'metrics.`test/image_auroc` > 0.8',
    });
    expect(found.models.map((m) => m.modelId)).toEqual([modelId]);
    expect((await rest.getRun(childIds[0])).outputs.modelOutputs).toEqual([{ modelId, step: 0 }]);
    expect(await rest.listLoggedModelArtifacts(modelId)).toEqual(await file.listLoggedModelArtifacts(modelId));
    expect((await rest.downloadLoggedModelArtifact(modelId, 'bundle/model.json')).toString()).toBe('{"c":0}');
  });

  it("meta.yaml: when MLflow rewrites a run's meta.yaml, it keeps every value of ours and changes only what it was asked to", async () => {
    for (const runId of childIds) {
      const path = join(root, experimentId, runId, 'meta.yaml');
      const ours = parseMetaYaml(await readFile(path, 'utf8'), path);
      await rest.updateRun({ runId, status: 'FINISHED', endTime: T0 + 7777 });
      const theirs = parseMetaYaml(await readFile(path, 'utf8'), path);
      expect(theirs, runId).toEqual({ ...ours, end_time: T0 + 7777, status: 3 });
      // and what we would write for those values, MLflow's reader (through the server) reads back the same
      expect(parseMetaYaml(dumpMetaYaml(theirs as Record<string, never>))).toEqual(theirs);
    }
  });

  it('an experiment MLflow creates in our store is read by our store, with the name MLflow wrote', async () => {
    const name = 'made by MLflow: "quoted" 🚀 yes';
    const id = await rest.createExperiment(name);
    const theirs = parseMetaYaml(await readFile(join(root, id, 'meta.yaml'), 'utf8'));
    expect(theirs.name).toBe(name);
    const local = await new FileTrackingStore(root).getExperimentByName(name);
    expect(local?.experimentId).toBe(id);
  });
});
