/**
 * The tracking contract: one suite of behaviours every `TrackingStore` must show, run against the
 * file store, the REST client on the fake server, and the REST client on a real MLflow server.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MlflowInvalidParameterError,
  MlflowParamConflictError,
  MlflowResourceNotFoundError,
} from '../errors';
import { searchAllRuns, type TrackingStore } from '../tracking-store';
import type { Metric } from '../types';

export function trackingContract(label: string, makeStore: () => Promise<TrackingStore>): void {
  describe(`tracking contract: ${label}`, () => {
    let store: TrackingStore;
    let experimentId: string;
    const unique = `contract-${randomUUID().slice(0, 8)}`;

    beforeAll(async () => {
      store = await makeStore();
      experimentId = await store.getOrCreateExperiment(unique, { purpose: 'contract' });
    });
    afterAll(async () => store?.close());

    it('experiments: get-by-name, create, and the create race returns the same id', async () => {
      const e = await store.getExperimentByName(unique);
      expect(e?.experimentId).toBe(experimentId);
      expect(e?.tags.purpose).toBe('contract');
      expect(await store.getExperimentByName(`${unique}-absent`)).toBeUndefined();
      const racers = await Promise.all([1, 2, 3].map(() => store.getOrCreateExperiment(`${unique}-race`)));
      expect(new Set(racers).size).toBe(1);
    });

    it('runs: create (nested via mlflow.parentRunId, named via mlflow.runName), update, get', async () => {
      const parent = await store.createRun({ experimentId, runName: 'parent', startTime: 1_700_000_000_000 });
      const child = await store.createRun({ experimentId, runName: 'child a', parentRunId: parent.info.runId, tags: { cell: 'a' } });
      expect(parent.info.runId).toMatch(/^[0-9a-f]{32}$/);
      expect(parent.info.status).toBe('RUNNING');
      expect(parent.info.startTime).toBe(1_700_000_000_000);
      await store.updateRun({ runId: child.info.runId, status: 'FINISHED', endTime: 1_700_000_100_000 });
      const got = await store.getRun(child.info.runId);
      expect(got.info.status).toBe('FINISHED');
      expect(got.info.endTime).toBe(1_700_000_100_000);
      expect(got.info.runName).toBe('child a');
      expect(got.data.tags['mlflow.parentRunId']).toBe(parent.info.runId);
      expect(got.data.tags['mlflow.runName']).toBe('child a');
      expect(got.data.tags.cell).toBe('a');
    });

    it('search: by tag, by status, with order and pagination', async () => {
      const parent = await store.createRun({ experimentId, runName: 'search-parent' });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await store.createRun({ experimentId, runName: `s${i}`, parentRunId: parent.info.runId, startTime: 1_800_000_000_000 + i, tags: { group: 'search' } });
        if (i % 2 === 0) await store.updateRun({ runId: r.info.runId, status: 'FAILED' });
        ids.push(r.info.runId);
      }
      const byParent = await searchAllRuns(store, { experimentIds: [experimentId], filter: `tags.\`mlflow.parentRunId\` = '${parent.info.runId}'`, maxResults: 2 });
      expect(byParent.map((r) => r.info.runId)).toEqual([...ids].reverse());
      const failed = await store.searchRuns({ experimentIds: [experimentId], filter: `tags.group = 'search' AND attributes.status = 'FAILED'` });
      expect(failed.runs.map((r) => r.info.runName).sort()).toEqual(['s0', 's2', 's4']);
      const page = await store.searchRuns({ experimentIds: [experimentId], filter: `tags.group = 'search'`, maxResults: 2 });
      expect(page.runs).toHaveLength(2);
      expect(page.nextPageToken).toBeTruthy();
    });

    it('log-batch beyond every limit succeeds through chunking, and everything comes back', async () => {
      const run = await store.createRun({ experimentId, runName: 'limits' });
      const metrics: Metric[] = Array.from({ length: 2501 }, (_, i) => ({ key: `m${i % 3}`, value: i / 7, timestamp: 1_700_000_000_000 + i, step: i }));
      const params = Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: `v${i}` }));
      const tags = Array.from({ length: 130 }, (_, i) => ({ key: `t${i}`, value: 'x'.repeat(2000) }));
      await store.logBatch(run.info.runId, { metrics, params, tags });
      const got = await store.getRun(run.info.runId);
      expect(Object.keys(got.data.params)).toHaveLength(250);
      expect(Object.keys(got.data.tags).filter((k) => k.startsWith('t'))).toHaveLength(130);
      const history = await store.getMetricHistory(run.info.runId, 'm1');
      expect(history).toHaveLength(834);
      expect(history.map((m) => m.step).sort((a, b) => a - b)).toEqual(metrics.filter((m) => m.key === 'm1').map((m) => m.step));
      expect(got.data.metrics.m1.step).toBe(2500); // the largest i < 2501 with i % 3 = 1
    });

    it('params: same value again is fine, a different value is a typed conflict', async () => {
      const run = await store.createRun({ experimentId, runName: 'params' });
      await store.logBatch(run.info.runId, { params: [{ key: 'lr', value: '0.001' }] });
      await store.logBatch(run.info.runId, { params: [{ key: 'lr', value: '0.001' }] });
      await expect(store.logBatch(run.info.runId, { params: [{ key: 'lr', value: '0.01' }] })).rejects.toBeInstanceOf(MlflowParamConflictError);
      expect((await store.getRun(run.info.runId)).data.params.lr).toBe('0.001');
    });

    it('metrics: NaN, ±Infinity, steps and keys with / round-trip', async () => {
      const run = await store.createRun({ experimentId, runName: 'special' });
      const t = 1_700_000_000_000;
      await store.logBatch(run.info.runId, {
        metrics: [
          { key: 'loss/att', value: NaN, timestamp: t, step: 0 },
          { key: 'loss/att', value: Infinity, timestamp: t + 1, step: 1 },
          { key: 'loss/att', value: -Infinity, timestamp: t + 2, step: 2 },
          { key: 'loss/att', value: 0.25, timestamp: t + 3, step: 3 },
        ],
      });
      const h = await store.getMetricHistory(run.info.runId, 'loss/att');
      expect(h.map((m) => [m.step, m.value])).toEqual([[0, NaN], [1, Infinity], [2, -Infinity], [3, 0.25]]);
      expect(h[0].timestamp).toBe(t);
    });

    it('long values: params at 6000 and tags at 8000 characters are kept; longer ones are truncated to those', async () => {
      const run = await store.createRun({ experimentId, runName: 'long' });
      await store.logBatch(run.info.runId, { params: [{ key: 'p6000', value: 'a'.repeat(6000) }, { key: 'p7000', value: 'b'.repeat(7000) }], tags: [{ key: 't8000', value: 'c'.repeat(8000) }, { key: 't9000', value: 'd'.repeat(9000) }] });
      const got = await store.getRun(run.info.runId);
      expect(got.data.params.p6000).toHaveLength(6000);
      expect(got.data.params.p7000).toHaveLength(6000);
      expect(got.data.tags.t8000).toHaveLength(8000);
      expect(got.data.tags.t9000).toHaveLength(8000);
    });

    it('artifacts: upload, list (nested) and download', async () => {
      const run = await store.createRun({ experimentId, runName: 'artifacts' });
      await store.logArtifact(run.info.runId, 'result.json', '{"ok":true}');
      await store.logArtifact(run.info.runId, 'heatmaps/a b.png', Buffer.from([137, 80, 78, 71, 0, 1, 2]));
      const top = await store.listArtifacts(run.info.runId);
      expect(top.map((a) => [a.path, a.isDir])).toEqual([['heatmaps', true], ['result.json', false]]);
      expect((await store.listArtifacts(run.info.runId, 'heatmaps')).map((a) => [a.path, a.fileSize])).toEqual([['heatmaps/a b.png', 7]]);
      expect((await store.downloadArtifact(run.info.runId, 'result.json')).toString()).toBe('{"ok":true}');
      expect([...(await store.downloadArtifact(run.info.runId, 'heatmaps/a b.png'))]).toEqual([137, 80, 78, 71, 0, 1, 2]);
    });

    it('errors are typed: unknown run, invalid key', async () => {
      await expect(store.getRun('0123456789abcdef0123456789abcdef')).rejects.toBeInstanceOf(MlflowResourceNotFoundError);
      const run = await store.createRun({ experimentId, runName: 'errors' });
      await expect(store.logBatch(run.info.runId, { metrics: [{ key: 'bad!key', value: 1, timestamp: 1, step: 0 }] })).rejects.toBeInstanceOf(MlflowInvalidParameterError);
      await expect(store.logBatch(run.info.runId, { params: [{ key: '../escape', value: '1' }] })).rejects.toBeInstanceOf(MlflowInvalidParameterError);
    });
  });
}
