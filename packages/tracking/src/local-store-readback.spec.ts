/**
 * The local store read by MLflow itself: runs written by FileTrackingStore, then the real MLflow
 * server started with `--backend-store-uri` on that folder, and everything read back over REST.
 * This is what `mlflow ui --backend-store-uri ./mlruns` shows a user.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileTrackingStore } from './file-store';
import { RestTrackingStore } from './rest-store';
import { findServeScript, type RealServer, startRealMlflow } from './testing/real-server';
import { searchAllRuns } from './tracking-store';

const { script, reason } = findServeScript();
if (!script) process.stderr.write(`[tracking] local-store read-back by the real MLflow server skipped: ${reason}\n`);

describe.skipIf(!script)('the local file store, read back by the real MLflow server', () => {
  let server: RealServer | undefined;
  let root: string;
  const written = { parent: '', children: [] as string[] };
  const t0 = 1_700_000_000_000;

  beforeAll(async () => {
    root = join(await mkdtemp(join(tmpdir(), 'readback-')), 'mlruns');
    const store = new FileTrackingStore(root);
    const exp = await store.getOrCreateExperiment('readback', { sweep: 'demo' });
    const parent = await store.createRun({ experimentId: exp, runName: 'sweep demo', startTime: t0 });
    written.parent = parent.info.runId;
    await store.logBatch(parent.info.runId, { params: [{ key: 'sweep.name', value: 'demo' }] });
    await store.logArtifact(parent.info.runId, 'sweep.yaml', 'name: demo\n');
    for (let c = 0; c < 2; c++) {
      const child = await store.createRun({ experimentId: exp, runName: `cell ${c}`, parentRunId: parent.info.runId, startTime: t0 + 1000 * (c + 1), tags: { 'cfa.cell': `k${c}` } });
      written.children.push(child.info.runId);
      await store.logBatch(child.info.runId, {
        params: [{ key: 'loss.terms', value: 'att+rep' }, { key: 'descriptor/gammaD', value: String(c + 1) }],
        metrics: [
          ...[0, 1, 2].map((step) => ({ key: 'train/loss', value: 1 / (step + 1 + c), timestamp: t0 + step, step })),
          { key: 'image_auroc', value: 0.9 + c / 100, timestamp: t0 + 10, step: 0 },
          { key: 'pixel_aupro', value: NaN, timestamp: t0 + 10, step: 0 },
        ],
      });
      await store.logArtifact(child.info.runId, 'heatmaps/a.png', Buffer.from([1, 2, 3]));
      await store.updateRun({ runId: child.info.runId, status: c === 0 ? 'FINISHED' : 'FAILED', endTime: t0 + 5000 });
    }
    await store.updateRun({ runId: parent.info.runId, status: 'FINISHED', endTime: t0 + 9000 });
    server = await startRealMlflow(script!, root);
  }, 600_000);
  afterAll(async () => server?.stop());

  it('finds the experiment, the parent and the nested children with statuses and times', async () => {
    const rest = new RestTrackingStore({ uri: server!.url });
    const exp = await rest.getExperimentByName('readback');
    expect(exp?.tags.sweep).toBe('demo');
    const runs = await searchAllRuns(rest, { experimentIds: [exp!.experimentId] });
    expect(runs).toHaveLength(3);
    const parent = await rest.getRun(written.parent);
    expect(parent.info).toMatchObject({ runName: 'sweep demo', status: 'FINISHED', startTime: t0, endTime: t0 + 9000 });
    expect(parent.data.params['sweep.name']).toBe('demo');
    const children = await searchAllRuns(rest, { experimentIds: [exp!.experimentId], filter: `tags.\`mlflow.parentRunId\` = '${written.parent}'` });
    expect(children.map((r) => r.info.runId).sort()).toEqual([...written.children].sort());
    const c0 = await rest.getRun(written.children[0]);
    expect(c0.info).toMatchObject({ runName: 'cell 0', status: 'FINISHED', startTime: t0 + 1000, endTime: t0 + 5000 });
    expect((await rest.getRun(written.children[1])).info.status).toBe('FAILED');
    expect(c0.data.params).toEqual({ 'loss.terms': 'att+rep', 'descriptor/gammaD': '1' });
    expect(c0.data.tags['cfa.cell']).toBe('k0');
    expect(c0.data.tags['mlflow.runName']).toBe('cell 0');
    await rest.close();
  });

  it('returns every metric history with its steps, NaN included, and the artifacts', async () => {
    const rest = new RestTrackingStore({ uri: server!.url });
    const history = await rest.getMetricHistory(written.children[1], 'train/loss');
    expect(history.map((m) => [m.step, m.value, m.timestamp])).toEqual([0, 1, 2].map((s) => [s, 1 / (s + 2), t0 + s]));
    const c1 = await rest.getRun(written.children[1]);
    expect(c1.data.metrics.image_auroc.value).toBeCloseTo(0.91, 12);
    expect(Number.isNaN(c1.data.metrics.pixel_aupro.value)).toBe(true);
    // the UI lists a run's artifacts through artifacts/list, which reads the run's file:// artifact_uri
    const list = async (runId: string, path = '') => JSON.parse(await (await request(`${server!.url}/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=${path}`)).body.text()) as { files?: { path: string; is_dir: boolean }[] };
    expect((await list(written.parent)).files?.map((f) => f.path)).toEqual(['sweep.yaml']);
    expect((await list(written.children[0], 'heatmaps')).files?.map((f) => f.path)).toEqual(['heatmaps/a.png']);
    await rest.close();
  });
});
