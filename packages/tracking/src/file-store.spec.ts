import { execFile } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MlflowError, MlflowResourceNotFoundError } from './errors';
import { FileTrackingStore } from './file-store';
import { parseMetaYaml } from './meta-yaml';
import { trackingContract } from './testing/contract-suite';
import { searchAllRuns } from './tracking-store';

const tempStore = async () => join(await mkdtemp(join(tmpdir(), 'mlruns-')), 'mlruns');

trackingContract('file store', async () => new FileTrackingStore(await tempStore()), {
  reopen: (store) => new FileTrackingStore(store.location),
});

const meta = async (path: string) => parseMetaYaml(await readFile(path, 'utf8'), path);

describe("FileTrackingStore layout: MLflow's file store", () => {
  it('experiments: Default experiment 0, 18-digit ids, meta.yaml with the fields PyYAML reads, tags as files', async () => {
    const root = await tempStore();
    const store = new FileTrackingStore(root);
    const id = await store.getOrCreateExperiment('yes', { 'sweep/name': 'demo' });
    expect(id).toMatch(/^[1-9]\d{17}$/);
    const uri = pathToFileURL(root).href;
    const fields = [
      'artifact_location',
      'creation_time',
      'experiment_id',
      'last_update_time',
      'lifecycle_stage',
      'name',
    ];
    const defaultMeta = await meta(join(root, '0', 'meta.yaml'));
    expect(Object.keys(defaultMeta)).toEqual(fields);
    expect(defaultMeta).toMatchObject({
      artifact_location: `${uri}/0`,
      experiment_id: '0',
      lifecycle_stage: 'active',
      name: 'Default',
    });
    expect(defaultMeta.creation_time).toEqual(expect.any(Number));
    // 'yes' would read back as a boolean to PyYAML: it must be written quoted
    const text = await readFile(join(root, id, 'meta.yaml'), 'utf8');
    expect(text).toMatch(/^name: ["']yes["']$/m);
    expect(await meta(join(root, id, 'meta.yaml'))).toMatchObject({ experiment_id: id, name: 'yes' });
    expect(await readFile(join(root, id, 'tags', 'sweep', 'name'), 'utf8')).toBe('demo');
    expect((await readdir(root)).sort()).toEqual(['.trash', '0', id]);
  });

  it('runs: meta.yaml fields and status ints, metric lines with Python floats, params and tags without newline, / as folders', async () => {
    const root = await tempStore();
    const store = new FileTrackingStore(root);
    const exp = await store.getOrCreateExperiment('demo');
    const run = await store.createRun({
      experimentId: exp,
      runName: 'child: 1',
      startTime: 1700000000000,
      userId: 'me',
    });
    const runId = run.info.runId;
    expect(runId).toMatch(/^[0-9a-f]{32}$/);
    await store.logBatch(runId, {
      metrics: [
        { key: 'x', value: 0.1, timestamp: 1, step: 0 },
        { key: 'x', value: 1, timestamp: 2, step: 1 },
        { key: 'x', value: 1e-5, timestamp: 3, step: 2 },
        { key: 'a/b', value: NaN, timestamp: 1, step: 2 },
        { key: 'a/b', value: -Infinity, timestamp: 1, step: 3 },
      ],
      params: [
        { key: 'p', value: 'v' },
        { key: 'lr/base', value: '0.001' },
      ],
    });
    await store.updateRun({ runId, status: 'KILLED', endTime: 1700000001000 });
    const dir = join(root, exp, runId);
    // MLflow's `_make_persisted_run_info_dict`: these fields, sorted, with the status as an int
    expect(await meta(join(dir, 'meta.yaml'))).toEqual({
      artifact_uri: `${pathToFileURL(root).href}/${exp}/${runId}/artifacts`,
      end_time: 1700000001000,
      entry_point_name: '',
      experiment_id: exp,
      lifecycle_stage: 'active',
      run_id: runId,
      run_name: 'child: 1',
      source_name: '',
      source_type: 4,
      source_version: '',
      start_time: 1700000000000,
      status: 5,
      tags: [],
      user_id: 'me',
    });
    expect(Object.keys(await meta(join(dir, 'meta.yaml')))).toEqual(
      Object.keys(await meta(join(dir, 'meta.yaml'))).sort(),
    );
    expect(await readFile(join(dir, 'metrics', 'x'), 'utf8')).toBe('1 0.1 0\n2 1.0 1\n3 1e-05 2\n');
    expect(await readFile(join(dir, 'metrics', 'a', 'b'), 'utf8')).toBe('1 nan 2\n1 -inf 3\n');
    expect(await readFile(join(dir, 'params', 'p'), 'utf8')).toBe('v');
    expect(await readFile(join(dir, 'params', 'lr', 'base'), 'utf8')).toBe('0.001');
    expect(await readFile(join(dir, 'tags', 'mlflow.runName'), 'utf8')).toBe('child: 1');
    expect((await readdir(dir)).sort()).toEqual(['artifacts', 'meta.yaml', 'metrics', 'params', 'tags']);
    await store.logArtifact(runId, 'plots/roc.json', '{}');
    expect(await readFile(join(dir, 'artifacts', 'plots', 'roc.json'), 'utf8')).toBe('{}');
  });

  it('reads what MLflow itself wrote: quoted and folded meta.yaml values, runs with 2- and 3-field metric lines', async () => {
    const root = await tempStore();
    const store = new FileTrackingStore(root);
    const exp = await store.getOrCreateExperiment('written by mlflow');
    const runId = 'c7c1e55321a143ac8095e2dbdd13b35f';
    const dir = join(root, exp, runId);
    await mkdir(join(dir, 'metrics'), { recursive: true });
    const longName = 'long name '.repeat(12).trim();
    await writeFile(
      join(dir, 'meta.yaml'),
      `artifact_uri: mlflow-artifacts:/${exp}/${runId}/artifacts\nend_time: null\nentry_point_name: ''\nexperiment_id: '${exp}'\nlifecycle_stage: active\nrun_id: ${runId}\nrun_name: long name long name long name long name long name long name long name long\n  name long name long name long name long name\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: 1700000000000\nstatus: 3\ntags: []\nuser_id: ''\n`,
    );
    await writeFile(join(dir, 'metrics', 'loss'), '5 0.0 0\n6 1.0\n7 nan 2\n');
    const run = await store.getRun(runId);
    expect(run.info).toMatchObject({ runName: longName, status: 'FINISHED', userId: '', startTime: 1700000000000 });
    expect(run.info.endTime).toBeUndefined();
    expect((await store.getMetricHistory(runId, 'loss')).map((m) => [m.timestamp, m.value, m.step])).toEqual([
      [5, 0, 0],
      [6, 1, 0],
      [7, NaN, 2],
    ]);
    await expect(store.logArtifact(runId, 'a.txt', 'x')).rejects.toBeInstanceOf(MlflowError);
  });

  it('a torn last metric line (a crash mid-append) is not read, and the next append cuts it off', async () => {
    const root = await tempStore();
    const store = new FileTrackingStore(root);
    const run = await store.createRun({ experimentId: await store.getOrCreateExperiment('torn'), runName: 'r' });
    await store.logMetric(run.info.runId, 'loss', 0.5, 0, 10);
    const file = join(root, run.info.experimentId, run.info.runId, 'metrics', 'loss');
    await appendFile(file, '11 0.2');
    expect((await store.getMetricHistory(run.info.runId, 'loss')).map((m) => m.value)).toEqual([0.5]);
    await store.logMetric(run.info.runId, 'loss', 0.25, 1, 12);
    expect(await readFile(file, 'utf8')).toBe('10 0.5 0\n12 0.25 1\n');
  });

  it('an unknown run is not found; no temp file is left where MLflow would read it', async () => {
    const root = await tempStore();
    const store = new FileTrackingStore(root);
    await expect(store.getRun('0'.repeat(32))).rejects.toBeInstanceOf(MlflowResourceNotFoundError);
    const run = await store.createRun({
      experimentId: await store.getOrCreateExperiment('clean'),
      runName: 'r',
      tags: { a: '1' },
    });
    await store.logBatch(run.info.runId, { params: [{ key: 'p', value: '1' }], tags: [{ key: 't', value: '2' }] });
    const dir = join(root, run.info.experimentId, run.info.runId);
    for (const sub of ['tags', 'params'])
      expect((await readdir(join(dir, sub))).every((f) => !f.startsWith('.tmp'))).toBe(true);
  });
  it('a damaged experiment meta.yaml that may be the experiment asked for stops its creation, naming the file; others do not', async () => {
    const root = await tempStore();
    const store = new FileTrackingStore(root);
    const id = await store.getOrCreateExperiment('train-eval');
    const file = join(root, id, 'meta.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.slice(0, text.indexOf('lifecycle_stage') + 5)); // cut before the name
    const fresh = new FileTrackingStore(root);
    const error = await fresh.getOrCreateExperiment('train-eval').catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      new RegExp(`^${file}: .*it may be experiment 'train-eval', so no second experiment of that name is created`),
    );
    expect((await readdir(root)).filter((n) => /^\d+$/.test(n))).toHaveLength(2); // 0 and the damaged one
    // its name line is intact and another name: not this experiment, so another can be created
    await writeFile(file, `${text.replace('lifecycle_stage: active', 'lifecycle_stage: [')}`);
    expect(await fresh.getOrCreateExperiment('other')).toMatch(/^\d+$/);
  });
});

describe('FileTrackingStore across processes', () => {
  const child = fileURLToPath(new URL('./testing/file-store-writer.ts', import.meta.url));

  it('four processes creating one experiment and writing their own runs: one experiment, every run whole', async () => {
    const root = await tempStore();
    const run = promisify(execFile);
    const outputs = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        run(process.execPath, ['--import', 'tsx', child, root, 'shared-exp', String(i)], {
          cwd: fileURLToPath(new URL('..', import.meta.url)),
        }),
      ),
    );
    const runIds = outputs.map((o) => o.stdout.trim());
    const store = new FileTrackingStore(root);
    const exp = await store.getExperimentByName('shared-exp');
    const experiments = (await readdir(root)).filter((n) => /^\d+$/.test(n));
    expect(experiments.sort()).toEqual(['0', exp!.experimentId].sort());
    const runs = await searchAllRuns(store, { experimentIds: [exp!.experimentId] });
    expect(runs.map((r) => r.info.runId).sort()).toEqual([...runIds].sort());
    for (const r of runs) {
      expect(r.info.status).toBe('FINISHED');
      expect((await store.getMetricHistory(r.info.runId, 'loss')).map((m) => m.step)).toEqual(
        Array.from({ length: 200 }, (_, s) => s),
      );
      expect(Object.keys(r.data.params)).toHaveLength(50);
    }
  }, 60_000);
});
