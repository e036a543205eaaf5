import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileTrackingStore } from './file-store';
import { trackingContract } from './testing/contract-suite';

trackingContract('file store', async () => new FileTrackingStore(await mkdtemp(join(tmpdir(), 'mlruns-'))));

describe('FileTrackingStore layout (what mlflow ui reads)', () => {
  it("writes MLflow's meta.yaml, metric lines, params and tags exactly as its FileStore does", async () => {
    const root = await mkdtemp(join(tmpdir(), 'mlruns-'));
    const store = new FileTrackingStore(root);
    const exp = await store.getOrCreateExperiment('demo');
    expect(exp).toMatch(/^[1-9]\d{17}$/);
    const run = await store.createRun({ experimentId: exp, runName: 'child', startTime: 1700000000000, userId: 'me' });
    await store.logBatch(run.info.runId, { metrics: [{ key: 'x', value: 0.1, timestamp: 1, step: 0 }, { key: 'a/b', value: NaN, timestamp: 1, step: 2 }], params: [{ key: 'p', value: 'v' }] });
    await store.updateRun({ runId: run.info.runId, status: 'FINISHED', endTime: 1700000001000 });
    const dir = join(root, exp, run.info.runId);
    expect(await readFile(join(root, '0', 'meta.yaml'), 'utf8')).toMatch(/^artifact_location: file:\/\/.*\/0\ncreation_time: \d+\nexperiment_id: "0"\nlast_update_time: \d+\nlifecycle_stage: active\nname: Default\n$/);
    expect(await readFile(join(dir, 'meta.yaml'), 'utf8')).toBe(
      `artifact_uri: file://${root}/${exp}/${run.info.runId}/artifacts\nend_time: 1700000001000\nentry_point_name: ""\nexperiment_id: "${exp}"\nlifecycle_stage: active\nrun_id: ${run.info.runId}\nrun_name: child\nsource_name: ""\nsource_type: 4\nsource_version: ""\nstart_time: 1700000000000\nstatus: 3\ntags: []\nuser_id: me\n`,
    );
    expect(await readFile(join(dir, 'metrics', 'x'), 'utf8')).toBe('1 0.1 0\n');
    expect(await readFile(join(dir, 'metrics', 'a', 'b'), 'utf8')).toBe('1 nan 2\n');
    expect(await readFile(join(dir, 'params', 'p'), 'utf8')).toBe('v');
    expect(await readFile(join(dir, 'tags', 'mlflow.runName'), 'utf8')).toBe('child');
  });
});
