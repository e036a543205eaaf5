/**
 * The tracking contract: one suite of behaviours every `TrackingStore` must show, defined as vitest
 * tests for any store factory. It runs against the file store, the REST client on the fake server,
 * and the REST client on a real MLflow server (`MLFLOW_TEST_TRACKING_URI`); where the fake and the
 * real server disagree, the real one is right and the fake is fixed.
 *
 * It covers experiments (get-by-name, create, the already-exists race), runs (create, nested,
 * update through every status, get, search by tag and status, pages), log-batch at exactly and
 * beyond every limit (everything must come back), param re-logging, NaN/±Infinity, long values,
 * keys with '/', metric history with steps and over several pages, artifacts up, down and listed,
 * each error the stores map to a type, and MLflow 3's logged models (create, params and tags,
 * artifacts, finalize, the run's outputs, metrics linked to a model and a dataset, search by metric
 * and by attribute, ordered by a metric).
 *
 * @example
 * ```ts
 * // in a *.spec.ts
 * trackingContract('file store', async () => new FileTrackingStore(await mkdtemp(join(tmpdir(), 'mlruns-'))), {
 *   reopen: (store) => new FileTrackingStore(store.location),
 * });
 * ```
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyValue, Metric, RunStatus } from '../entities';
import {
  MlflowInvalidKeyError,
  MlflowInvalidParameterError,
  MlflowParamConflictError,
  MlflowResourceAlreadyExistsError,
  MlflowResourceNotFoundError,
} from '../errors';
import { searchAllLoggedModels, searchAllRuns, type TrackingStore } from '../tracking-store';

export interface ContractOptions {
  /** A second, independent store on the same backend (another process, as far as the store knows). */
  reopen?: (store: TrackingStore) => TrackingStore;
}

const T0 = 1_700_000_000_000;

const metricsOf = (n: number, key: (i: number) => string, start = 0): Metric[] =>
  Array.from({ length: n }, (_, i) => ({
    key: key(i),
    value: (start + i) / 7,
    timestamp: T0 + start + i,
    step: start + i,
  }));
const keyValues = (n: number, prefix: string, value: (i: number) => string): KeyValue[] =>
  Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: value(i) }));

export function trackingContract(
  label: string,
  makeStore: () => Promise<TrackingStore>,
  options: ContractOptions = {},
): void {
  describe(`tracking contract: ${label}`, () => {
    let store: TrackingStore;
    let experimentId: string;
    const unique = `contract-${randomUUID().slice(0, 8)}`;
    const newRun = async (
      runName: string,
      extra: { parentRunId?: string; tags?: Record<string, string>; startTime?: number } = {},
    ) => (await store.createRun({ experimentId, runName, ...extra })).info.runId;

    /** Every metric of a batch must come back from the history, exactly. */
    const expectAllMetrics = async (runId: string, sent: Metric[]) => {
      const byKey = new Map<string, Metric[]>();
      for (const m of sent) byKey.set(m.key, [...(byKey.get(m.key) ?? []), m]);
      for (const [key, list] of byKey) {
        const history = await store.getMetricHistory(runId, key);
        expect(
          history.map((m) => [m.step, m.timestamp, m.value]),
          `history of ${key}`,
        ).toEqual(list.map((m) => [m.step, m.timestamp, m.value]));
      }
    };

    beforeAll(async () => {
      store = await makeStore();
      experimentId = await store.getOrCreateExperiment(unique, { purpose: 'contract' });
    }, 120_000);
    afterAll(async () => store?.close());

    describe('experiments', () => {
      it('get-by-name finds an experiment with its tags, and nothing for an unknown name', async () => {
        const e = await store.getExperimentByName(unique);
        expect(e).toMatchObject({
          experimentId,
          name: unique,
          lifecycleStage: 'active',
          tags: { purpose: 'contract' },
        });
        expect(e!.artifactLocation).not.toBe('');
        expect(await store.getExperimentByName(`${unique}-absent`)).toBeUndefined();
      });

      it('create returns a new id; a taken name is MlflowResourceAlreadyExistsError; getOrCreate returns the existing id', async () => {
        const name = `${unique}-created`;
        const id = await store.createExperiment(name, { k: 'v' });
        expect(id).toMatch(/^\d+$/);
        expect(id).not.toBe(experimentId);
        await expect(store.createExperiment(name)).rejects.toBeInstanceOf(MlflowResourceAlreadyExistsError);
        expect(await store.getOrCreateExperiment(name)).toBe(id);
      });

      it('the create race: concurrent getOrCreate calls, in one store and in two, all get one id', async () => {
        const name = `${unique}-race`;
        const other = options.reopen?.(store);
        const racers = await Promise.all([
          ...[1, 2, 3].map(() => store.getOrCreateExperiment(name)),
          ...(other ? [1, 2, 3].map(() => other.getOrCreateExperiment(name)) : []),
        ]);
        await other?.close();
        expect(new Set(racers).size).toBe(1);
        expect((await store.getExperimentByName(name))?.experimentId).toBe(racers[0]);
      });

      it("an empty or too long name, or one with a single quote (MLflow's file store cannot look it up), is MlflowInvalidParameterError", async () => {
        await expect(store.createExperiment('')).rejects.toBeInstanceOf(MlflowInvalidParameterError);
        await expect(store.createExperiment('n'.repeat(501))).rejects.toBeInstanceOf(MlflowInvalidParameterError);
        await expect(store.getOrCreateExperiment(`${unique} it's`)).rejects.toBeInstanceOf(MlflowInvalidParameterError);
        const quoted = await store.createExperiment(`${unique} "quoted" 🚀`);
        expect((await store.getExperimentByName(`${unique} "quoted" 🚀`))?.experimentId).toBe(quoted);
      });
    });

    describe('runs', () => {
      it('create and get: ids, names, start time, nested via mlflow.parentRunId, named via mlflow.runName', async () => {
        const parent = await store.createRun({ experimentId, runName: 'parent', startTime: T0 });
        const child = await store.createRun({
          experimentId,
          runName: 'child a',
          parentRunId: parent.info.runId,
          tags: { cell: 'a' },
          startTime: T0 + 1,
        });
        expect(parent.info).toMatchObject({
          experimentId,
          runName: 'parent',
          status: 'RUNNING',
          startTime: T0,
          lifecycleStage: 'active',
        });
        expect(parent.info.runId).toMatch(/^[0-9a-f]{32}$/);
        expect(parent.info.endTime).toBeUndefined();
        expect(parent.info.artifactUri).toContain(parent.info.runId);
        expect(parent.data.tags['mlflow.parentRunId']).toBeUndefined();
        const got = await store.getRun(child.info.runId);
        expect(got.info).toEqual(child.info);
        expect(got.data.tags).toMatchObject({
          'mlflow.parentRunId': parent.info.runId,
          'mlflow.runName': 'child a',
          cell: 'a',
        });
        expect(got.data.metrics).toEqual({});
        expect(got.data.params).toEqual({});
      });

      it('update: every status round-trips, end time is kept, a new name renames the run and its tag', async () => {
        const runId = await newRun('statuses');
        for (const status of ['SCHEDULED', 'FAILED', 'KILLED', 'RUNNING', 'FINISHED'] as RunStatus[]) {
          await store.updateRun({ runId, status });
          expect((await store.getRun(runId)).info.status).toBe(status);
        }
        await store.updateRun({ runId, status: 'FINISHED', endTime: T0 + 5000 });
        await store.updateRun({ runId, status: 'FINISHED' });
        expect((await store.getRun(runId)).info.endTime).toBe(T0 + 5000);
        await store.updateRun({ runId, status: 'FINISHED', runName: 'renamed' });
        const got = await store.getRun(runId);
        expect(got.info.runName).toBe('renamed');
        expect(got.data.tags['mlflow.runName']).toBe('renamed');
      });

      it('search: by tag, by parent, by status; ordered by start time; in pages that searchAllRuns follows', async () => {
        const parent = await newRun('search-parent');
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          const id = await newRun(`s${i}`, {
            parentRunId: parent,
            startTime: T0 + 100 + i,
            tags: { group: `search-${unique}` },
          });
          if (i % 2 === 0) await store.updateRun({ runId: id, status: 'FAILED' });
          ids.push(id);
        }
        const byParent = await searchAllRuns(store, {
          experimentIds: [experimentId],
          filter: `tags.\`mlflow.parentRunId\` = '${parent}'`,
          maxResults: 2,
        });
        expect(byParent.map((r) => r.info.runId)).toEqual([...ids].reverse());
        const failed = await store.searchRuns({
          experimentIds: [experimentId],
          filter: `tags.group = 'search-${unique}' AND attributes.status = 'FAILED'`,
        });
        expect(failed.runs.map((r) => r.info.runName).sort()).toEqual(['s0', 's2', 's4']);
        const first = await store.searchRuns({
          experimentIds: [experimentId],
          filter: `tags.group = 'search-${unique}'`,
          maxResults: 2,
        });
        expect(first.runs.map((r) => r.info.runName)).toEqual(['s4', 's3']);
        expect(first.nextPageToken).toBeTruthy();
        const second = await store.searchRuns({
          experimentIds: [experimentId],
          filter: `tags.group = 'search-${unique}'`,
          maxResults: 2,
          pageToken: first.nextPageToken,
        });
        expect(second.runs.map((r) => r.info.runName)).toEqual(['s2', 's1']);
        const ascending = await store.searchRuns({
          experimentIds: [experimentId],
          filter: `tags.group = 'search-${unique}'`,
          orderBy: ['attributes.start_time ASC'],
          maxResults: 1,
        });
        expect(ascending.runs[0].info.runName).toBe('s0');
        expect(
          (await store.searchRuns({ experimentIds: [experimentId], filter: "tags.group = 'nothing-matches'" })).runs,
        ).toEqual([]);
      });
    });

    describe('log-batch limits (1000 metrics, 100 params, 100 tags, 1000 entities, 1 MB)', () => {
      it('exactly at each limit: everything comes back', async () => {
        const runId = await newRun('at-limits');
        const metrics = metricsOf(1000, (i) => `m${i % 4}`);
        const params = keyValues(100, 'p', (i) => `v${i}`);
        const tags = keyValues(100, 't', (i) => `w${i}`);
        await store.logBatch(runId, { metrics });
        await store.logBatch(runId, { params });
        await store.logBatch(runId, { tags });
        const mixed = {
          metrics: metricsOf(800, () => 'mixed'),
          params: keyValues(100, 'q', String),
          tags: keyValues(100, 'u', String),
        };
        await store.logBatch(runId, mixed);
        const got = await store.getRun(runId);
        expect(got.data.params).toEqual(Object.fromEntries([...params, ...mixed.params].map((p) => [p.key, p.value])));
        expect(got.data.tags).toMatchObject(Object.fromEntries([...tags, ...mixed.tags].map((t) => [t.key, t.value])));
        await expectAllMetrics(runId, [...metrics, ...mixed.metrics]);
      });

      it('beyond each limit, and over 1 MB: split into requests, and every value comes back', async () => {
        const runId = await newRun('beyond-limits');
        const metrics = metricsOf(2501, (i) => `m${i % 3}`);
        const params = keyValues(101, 'p', (i) => `v${i}`);
        const tags = keyValues(101, 't', (i) => `w${i}`);
        await store.logBatch(runId, { metrics, params, tags });
        const entities = {
          metrics: metricsOf(801, () => 'e'),
          params: keyValues(100, 'q', String),
          tags: keyValues(100, 'u', String),
        };
        await store.logBatch(runId, entities);
        // 100 params of 6000 characters and 100 tags of 8000: 1.4 MB of JSON
        const big = {
          params: keyValues(100, 'bigp', (i) => `${i}`.padEnd(6000, 'p')),
          tags: keyValues(100, 'bigt', (i) => `${i}`.padEnd(8000, 't')),
        };
        await store.logBatch(runId, big);
        const got = await store.getRun(runId);
        expect(got.data.params).toEqual(
          Object.fromEntries([...params, ...entities.params, ...big.params].map((p) => [p.key, p.value])),
        );
        expect(got.data.tags).toMatchObject(
          Object.fromEntries([...tags, ...entities.tags, ...big.tags].map((t) => [t.key, t.value])),
        );
        await expectAllMetrics(runId, [...metrics, ...entities.metrics]);
        expect(got.data.metrics.m1).toMatchObject({ step: 2500, timestamp: T0 + 2500 }); // the largest i < 2501 with i % 3 = 1
      });

      it('a param key twice in one batch: sent once with one value, a conflict with two', async () => {
        const runId = await newRun('duplicate-keys');
        await store.logBatch(runId, {
          params: [
            { key: 'lr', value: '0.1' },
            { key: 'lr', value: '0.1' },
          ],
        });
        expect((await store.getRun(runId)).data.params).toEqual({ lr: '0.1' });
        await expect(
          store.logBatch(runId, {
            params: [
              { key: 'wd', value: '1' },
              { key: 'wd', value: '2' },
            ],
          }),
        ).rejects.toBeInstanceOf(MlflowParamConflictError);
      });
    });

    describe('values', () => {
      it('params: the same value again is fine, another value is MlflowParamConflictError and changes nothing', async () => {
        const runId = await newRun('params');
        await store.logParam(runId, 'lr', '0.001');
        await store.logBatch(runId, {
          params: [
            { key: 'lr', value: '0.001' },
            { key: 'epochs', value: '30' },
          ],
        });
        await expect(store.logParam(runId, 'lr', '0.01')).rejects.toBeInstanceOf(MlflowParamConflictError);
        await expect(store.logBatch(runId, { params: [{ key: 'lr', value: '0.02' }] })).rejects.toBeInstanceOf(
          MlflowParamConflictError,
        );
        expect((await store.getRun(runId)).data.params).toEqual({ lr: '0.001', epochs: '30' });
      });

      it('metrics: NaN, Infinity and -Infinity round-trip in history and in the latest value', async () => {
        const runId = await newRun('special');
        await store.logBatch(runId, {
          metrics: [
            { key: 'loss/att', value: 0.25, timestamp: T0, step: 0 },
            { key: 'loss/att', value: NaN, timestamp: T0 + 1, step: 1 },
            { key: 'loss/att', value: Infinity, timestamp: T0 + 2, step: 2 },
            { key: 'loss/att', value: -Infinity, timestamp: T0 + 3, step: 3 },
            { key: 'nan', value: NaN, timestamp: T0, step: 0 },
            { key: 'inf', value: Infinity, timestamp: T0, step: 0 },
          ],
        });
        const h = await store.getMetricHistory(runId, 'loss/att');
        expect(h.map((m) => [m.step, m.value, m.timestamp])).toEqual([
          [0, 0.25, T0],
          [1, NaN, T0 + 1],
          [2, Infinity, T0 + 2],
          [3, -Infinity, T0 + 3],
        ]);
        const got = await store.getRun(runId);
        expect(got.data.metrics['loss/att'].value).toBe(-Infinity);
        expect(got.data.metrics.nan.value).toBeNaN();
        expect(got.data.metrics.inf.value).toBe(Infinity);
      });

      it('long values: params at 6000 and tags at 8000 characters are kept; longer ones are cut to those', async () => {
        const runId = await newRun('long');
        const p6000 = 'a'.repeat(5999) + 'Z';
        const t8000 = 'c'.repeat(7999) + 'Z';
        await store.logBatch(runId, {
          params: [
            { key: 'p6000', value: p6000 },
            { key: 'p6001', value: 'b'.repeat(6001) },
          ],
          tags: [
            { key: 't8000', value: t8000 },
            { key: 't8001', value: 'd'.repeat(8001) },
          ],
        });
        const got = await store.getRun(runId);
        expect(got.data.params.p6000).toBe(p6000);
        expect(got.data.params.p6001).toBe('b'.repeat(6000));
        expect(got.data.tags.t8000).toBe(t8000);
        expect(got.data.tags.t8001).toBe('d'.repeat(8000));
      });

      it("keys with '/', ':', ' ', '.', '-' (250 characters at most) round-trip for metrics, params and tags", async () => {
        const runId = await newRun('keys');
        const keys = ['train/loss', 'a/b/c', 'ns:key', 'with space', 'x.y-z_1', 'k'.repeat(250)];
        await store.logBatch(runId, {
          metrics: keys.map((key, i) => ({ key, value: i, timestamp: T0, step: 0 })),
          params: keys.map((key, i) => ({ key, value: `p${i}` })),
          tags: keys.map((key, i) => ({ key, value: `t${i}` })),
        });
        const got = await store.getRun(runId);
        for (const [i, key] of keys.entries()) {
          expect(got.data.metrics[key]?.value, key).toBe(i);
          expect(got.data.params[key], key).toBe(`p${i}`);
          expect(got.data.tags[key], key).toBe(`t${i}`);
          expect((await store.getMetricHistory(runId, key)).map((m) => m.value)).toEqual([i]);
        }
      });

      it('metric history: logging order, steps (repeated, negative, out of order), latest = largest (step, timestamp, value)', async () => {
        const runId = await newRun('history');
        await store.logMetric(runId, 'acc', 0.5, 2, T0 + 10);
        await store.logMetric(runId, 'acc', 0.4, 1, T0 + 20);
        await store.logMetric(runId, 'acc', 0.7, 2, T0 + 5);
        await store.logMetric(runId, 'acc', 0.9, -1, T0 + 30);
        await store.logMetric(runId, 'acc', 1.5, 0);
        const h = await store.getMetricHistory(runId, 'acc');
        expect(h.map((m) => [m.step, m.value])).toEqual([
          [2, 0.5],
          [1, 0.4],
          [2, 0.7],
          [-1, 0.9],
          [0, 1.5],
        ]);
        expect(h.slice(0, 4).map((m) => m.timestamp)).toEqual([T0 + 10, T0 + 20, T0 + 5, T0 + 30]);
        expect((await store.getRun(runId)).data.metrics.acc).toMatchObject({ step: 2, value: 0.5, timestamp: T0 + 10 });
        expect(await store.getMetricHistory(runId, 'never-logged')).toEqual([]);
      });

      it('metric history over several pages comes back whole', async () => {
        const runId = await newRun('long-history');
        const metrics = metricsOf(2500, () => 'curve');
        await store.logBatch(runId, { metrics });
        await expectAllMetrics(runId, metrics);
      });

      it('logMetric, logParam and setTag are single-entry batches', async () => {
        const runId = await newRun('conveniences');
        await store.logMetric(runId, 'm', 3, 4, T0);
        await store.logParam(runId, 'n', 12);
        await store.logParam(runId, 'flag', true);
        await store.setTag(runId, 'note', 'hello');
        const got = await store.getRun(runId);
        expect(got.data.metrics.m).toEqual({ key: 'm', value: 3, step: 4, timestamp: T0 });
        expect(got.data.params).toEqual({ n: '12', flag: 'true' });
        expect(got.data.tags.note).toBe('hello');
      });
    });

    describe('experiments by id and dataset inputs', () => {
      it('getExperiment by id; an unknown id is MlflowResourceNotFoundError', async () => {
        expect(await store.getExperiment(experimentId)).toMatchObject({ experimentId, name: unique });
        await expect(store.getExperiment('987654321098765432')).rejects.toBeInstanceOf(MlflowResourceNotFoundError);
      });

      it('logInputs: datasets with their context come back on the run; logging them again adds nothing', async () => {
        const runId = await newRun('with inputs');
        const train = {
          dataset: {
            name: 'weave',
            digest: 'a1b2c3d4e5f60718',
            sourceType: 'local',
            source: '{"uri": "/data/mvtec"}',
            profile: '{"images": 20}',
          },
          tags: { 'mlflow.data.context': 'train' },
        };
        const test = {
          dataset: { ...train.dataset, digest: '0f1e2d3c4b5a6978', profile: '{"images": 12}' },
          tags: { 'mlflow.data.context': 'test' },
        };
        await store.logInputs(runId, [train, test]);
        await store.logInputs(runId, [train]);
        const byContext = (await store.getRun(runId)).inputs.datasetInputs
          .map((d) => [d.tags['mlflow.data.context'], d.dataset.name, d.dataset.digest, d.dataset.sourceType])
          .sort();
        expect(byContext).toEqual([
          ['test', 'weave', '0f1e2d3c4b5a6978', 'local'],
          ['train', 'weave', 'a1b2c3d4e5f60718', 'local'],
        ]);
        const got = (await store.getRun(runId)).inputs.datasetInputs.find(
          (d) => d.dataset.digest === train.dataset.digest,
        );
        expect(got?.dataset).toMatchObject({ source: '{"uri": "/data/mvtec"}', profile: '{"images": 20}' });
        const found = await searchAllRuns(store, {
          experimentIds: [experimentId],
          filter: "attributes.run_name = 'with inputs'",
        });
        expect(found[0].inputs.datasetInputs).toHaveLength(2);
      });

      it('a digest over 36 characters is MlflowInvalidParameterError before anything is sent', async () => {
        const runId = await newRun('bad input');
        await expect(
          store.logInputs(runId, [{ dataset: { name: 'x', digest: 'd'.repeat(37), sourceType: 'local', source: '' } }]),
        ).rejects.toBeInstanceOf(MlflowInvalidParameterError);
      });
    });

    describe('artifacts', () => {
      it('upload (string, bytes, nested, spaces, empty), list root and folders, download exactly, overwrite', async () => {
        const runId = await newRun('artifacts');
        const png = Buffer.from([137, 80, 78, 71, 0, 1, 2, 255]);
        await store.logArtifact(runId, 'result.json', '{"ok":true}');
        await store.logArtifact(runId, 'heatmaps/a b.png', png);
        await store.logArtifact(runId, 'heatmaps/deep/x.txt', 'x');
        await store.logArtifact(runId, 'empty.txt', '');
        expect(await store.listArtifacts(runId)).toEqual([
          { path: 'empty.txt', isDir: false, fileSize: 0 },
          { path: 'heatmaps', isDir: true },
          { path: 'result.json', isDir: false, fileSize: 11 },
        ]);
        expect(await store.listArtifacts(runId, 'heatmaps')).toEqual([
          { path: 'heatmaps/a b.png', isDir: false, fileSize: 8 },
          { path: 'heatmaps/deep', isDir: true },
        ]);
        expect(await store.listArtifacts(runId, 'heatmaps/deep')).toEqual([
          { path: 'heatmaps/deep/x.txt', isDir: false, fileSize: 1 },
        ]);
        expect((await store.downloadArtifact(runId, 'result.json')).toString()).toBe('{"ok":true}');
        expect([...(await store.downloadArtifact(runId, 'heatmaps/a b.png'))]).toEqual([...png]);
        expect((await store.downloadArtifact(runId, 'empty.txt')).length).toBe(0);
        await store.logArtifact(runId, 'result.json', '{"ok":false}');
        expect((await store.downloadArtifact(runId, 'result.json')).toString()).toBe('{"ok":false}');
        expect(await store.listArtifacts(runId, 'no-such-folder')).toEqual([]);
      });

      it('a missing artifact is MlflowResourceNotFoundError', async () => {
        const runId = await newRun('no-artifact');
        await expect(store.downloadArtifact(runId, 'missing.txt')).rejects.toBeInstanceOf(MlflowResourceNotFoundError);
      });
    });

    describe('typed errors', () => {
      const unknownRun = '0123456789abcdef0123456789abcdef';

      it('an unknown run is MlflowResourceNotFoundError for get, update, log and history', async () => {
        await expect(store.getRun(unknownRun)).rejects.toBeInstanceOf(MlflowResourceNotFoundError);
        await expect(store.updateRun({ runId: unknownRun, status: 'FINISHED' })).rejects.toBeInstanceOf(
          MlflowResourceNotFoundError,
        );
        await expect(store.logMetric(unknownRun, 'x', 1)).rejects.toBeInstanceOf(MlflowResourceNotFoundError);
        await expect(store.getMetricHistory(unknownRun, 'x')).rejects.toBeInstanceOf(MlflowResourceNotFoundError);
      });

      it('a malformed run id is MlflowInvalidParameterError; an unknown experiment is MlflowResourceNotFoundError', async () => {
        await expect(store.getRun('not a run id!')).rejects.toBeInstanceOf(MlflowInvalidParameterError);
        await expect(store.createRun({ experimentId: '987654321987654321', runName: 'orphan' })).rejects.toBeInstanceOf(
          MlflowResourceNotFoundError,
        );
      });

      it('invalid keys are MlflowInvalidKeyError naming the key, for metrics, params and tags', async () => {
        const runId = await newRun('bad-keys');
        const cases: [string, () => Promise<unknown>][] = [
          ['auroc@k', () => store.logMetric(runId, 'auroc@k', 1)],
          ['../escape', () => store.logParam(runId, '../escape', '1')],
          ['/abs', () => store.setTag(runId, '/abs', 'v')],
          ['k'.repeat(251), () => store.logMetric(runId, 'k'.repeat(251), 1)],
          ['a//b', () => store.logParam(runId, 'a//b', '1')],
        ];
        for (const [key, call] of cases) {
          const error = await call().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error, key).toBeInstanceOf(MlflowInvalidKeyError);
          expect((error as MlflowInvalidKeyError).key).toBe(key);
          expect((error as Error).message).toContain(key.slice(0, 40));
        }
        expect((await store.getRun(runId)).data).toMatchObject({ params: {}, metrics: {} });
      });

      it('a filter MLflow cannot parse is MlflowInvalidParameterError', async () => {
        await expect(
          store.searchRuns({ experimentIds: [experimentId], filter: 'this is not a filter' }),
        ).rejects.toBeInstanceOf(MlflowInvalidParameterError);
      });
    });

    describe('logged models (MLflow 3)', () => {
      it('create (PENDING, with params and tags), upload artifacts, finalize READY, link to the run, metrics with model and dataset', async () => {
        const runId = await newRun('trains a model');
        const created = await store.createLoggedModel({
          experimentId,
          name: 'fleece-cfa',
          modelType: 'anomaly-detector',
          sourceRunId: runId,
          params: { method: 'cfa', backbone: 'resnet18' },
          tags: { 'cfa.category': 'fleece' },
        });
        expect(created).toMatchObject({
          experimentId,
          name: 'fleece-cfa',
          status: 'PENDING',
          modelType: 'anomaly-detector',
          sourceRunId: runId,
          params: { method: 'cfa', backbone: 'resnet18' },
          tags: { 'cfa.category': 'fleece' },
        });
        expect(created.modelId).toMatch(/^m-[0-9a-f]{32}$/);
        expect(created.artifactUri).toMatch(new RegExp(`/models/${created.modelId}/artifacts$`));
        await store.logLoggedModelArtifact(created.modelId, 'MLmodel', 'flavors: {}\n');
        await store.logLoggedModelArtifact(created.modelId, 'bundle/weights.bin', Buffer.from([0, 1, 2, 255]));
        expect((await store.listLoggedModelArtifacts(created.modelId)).map((a) => [a.path, a.isDir])).toEqual([
          ['MLmodel', false],
          ['bundle', true],
        ]);
        expect([...(await store.downloadLoggedModelArtifact(created.modelId, 'bundle/weights.bin'))]).toEqual([
          0, 1, 2, 255,
        ]);
        await expect(store.downloadLoggedModelArtifact(created.modelId, 'absent')).rejects.toBeInstanceOf(
          MlflowResourceNotFoundError,
        );
        await store.logLoggedModelParams(created.modelId, { taps: 'reference', method: 'cfa' });
        await store.setLoggedModelTags(created.modelId, { 'cfa.category': 'fleece', stage: 'test' });
        await store.logOutputs(runId, [{ modelId: created.modelId, step: 0 }]);
        // again: a link the run has is kept as it is (MLflow's SQL store refuses a repeat)
        await store.logOutputs(runId, [{ modelId: created.modelId, step: 0 }]);
        await store.logBatch(runId, {
          metrics: [
            {
              key: 'image_auroc',
              value: 0.75,
              timestamp: T0,
              step: 0,
              modelId: created.modelId,
              datasetName: 'fleece-test',
              datasetDigest: 'd1',
            },
            // (not NaN: MLflow 3.6's SQL store keeps a model's NaN as 0; the run's NaN is covered above)
            { key: 'pixel_auroc', value: 0.5, timestamp: T0, step: 0, modelId: created.modelId },
            { key: 'train_seconds', value: 3, timestamp: T0, step: 0 },
          ],
        });
        const ready = await store.finalizeLoggedModel(created.modelId, 'READY');
        expect(ready.status).toBe('READY');
        const model = await store.getLoggedModel(created.modelId);
        expect(model).toMatchObject({
          status: 'READY',
          params: { method: 'cfa', backbone: 'resnet18', taps: 'reference' },
          tags: { 'cfa.category': 'fleece', stage: 'test' },
        });
        const byKey = Object.fromEntries(model.metrics.map((m) => [m.key, m]));
        expect(Object.keys(byKey).sort()).toEqual(['image_auroc', 'pixel_auroc']);
        expect(byKey.image_auroc).toMatchObject({
          value: 0.75,
          step: 0,
          datasetName: 'fleece-test',
          datasetDigest: 'd1',
          runId,
        });
        expect(byKey.pixel_auroc).toMatchObject({ value: 0.5, runId });
        expect(byKey.pixel_auroc.datasetName).toBeUndefined();
        const run = await store.getRun(runId);
        expect(run.outputs.modelOutputs).toEqual([{ modelId: created.modelId, step: 0 }]);
        expect(run.data.metrics.image_auroc.value).toBe(0.75);
      });

      it('search: by metric, param, name and source run; ordered by a metric; pages that searchAllLoggedModels follows', async () => {
        const exp = await store.getOrCreateExperiment(`${unique}-models`);
        const runId = (await store.createRun({ experimentId: exp, runName: 'sweep cell' })).info.runId;
        const made = [];
        for (const [i, auroc] of [0.6, 0.9, 0.7].entries()) {
          const m = await store.createLoggedModel({
            experimentId: exp,
            name: `cell-${i}`,
            sourceRunId: runId,
            params: { i: String(i) },
          });
          await store.logBatch(runId, {
            metrics: [
              {
                key: 'image_auroc',
                value: auroc,
                timestamp: T0 + i,
                step: 0,
                modelId: m.modelId,
                datasetName: 'oak',
                datasetDigest: 'x',
              },
            ],
          });
          made.push(m.modelId);
        }
        const search = (request: Omit<Parameters<TrackingStore['searchLoggedModels']>[0], 'experimentIds'>) =>
          searchAllLoggedModels(store, { experimentIds: [exp], ...request }).then((ms) => ms.map((m) => m.name));
        expect(await search({})).toEqual(['cell-2', 'cell-1', 'cell-0']); // newest first
        expect(await search({ filter: 'metrics.image_auroc > 0.65' })).toEqual(['cell-2', 'cell-1']);
        expect(await search({ filter: "params.i = '0'" })).toEqual(['cell-0']);
        expect(await search({ filter: "name = 'cell-1'" })).toEqual(['cell-1']);
        // one clause each: MLflow 3.6's SQL store refuses any AND in a logged-model filter ("Invalid filter string")
        expect(await search({ filter: `source_run_id = '${runId}'` })).toHaveLength(3);
        expect(await search({ filter: "name LIKE 'cell-%'" })).toHaveLength(3);
        expect(await search({ orderBy: [{ fieldName: 'metrics.image_auroc', ascending: false }] })).toEqual([
          'cell-1',
          'cell-2',
          'cell-0',
        ]);
        expect(await search({ maxResults: 2 })).toHaveLength(3);
        const page = await store.searchLoggedModels({ experimentIds: [exp], maxResults: 2 });
        expect(page.models).toHaveLength(2);
        expect(page.nextPageToken).toBeTruthy();
        await expect(store.searchLoggedModels({ experimentIds: [exp], filter: 'bogus' })).rejects.toBeInstanceOf(
          MlflowInvalidParameterError,
        );
      });

      it('UPLOAD_FAILED is kept; an unknown model is MlflowResourceNotFoundError; a bad name is MlflowInvalidParameterError; no name gets one', async () => {
        const failed = await store.createLoggedModel({ experimentId });
        expect(failed.name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
        expect((await store.finalizeLoggedModel(failed.modelId, 'UPLOAD_FAILED')).status).toBe('UPLOAD_FAILED');
        await expect(store.getLoggedModel('m-0123456789abcdef0123456789abcdef')).rejects.toBeInstanceOf(
          MlflowResourceNotFoundError,
        );
        await expect(store.createLoggedModel({ experimentId, name: 'a/b' })).rejects.toBeInstanceOf(
          MlflowInvalidParameterError,
        );
        await expect(store.createLoggedModel({ experimentId: '987654321987654321' })).rejects.toBeInstanceOf(
          MlflowResourceNotFoundError,
        );
        await expect(store.setLoggedModelTags(failed.modelId, { 'bad!': 'x' })).rejects.toBeInstanceOf(
          MlflowInvalidKeyError,
        );
      });

      it('a model param keeps its first value: the same again is fine, another is MlflowParamConflictError', async () => {
        const m = await store.createLoggedModel({ experimentId, params: { lr: '0.1' } });
        await store.logLoggedModelParams(m.modelId, { lr: '0.1' });
        await expect(store.logLoggedModelParams(m.modelId, { lr: '0.2' })).rejects.toBeInstanceOf(
          MlflowParamConflictError,
        );
        expect((await store.getLoggedModel(m.modelId)).params).toEqual({ lr: '0.1' });
      });
    });
  });
}
