/**
 * The experiments app against the real MLflow 3.6 server (../shared/mlflow-server/serve.sh; skipped
 * with the reason when absent): `ablation-loss` with tiny settings logs its parent, children and
 * comparison table; the server stopped mid-sweep and started again loses no metric; a sweep killed
 * with SIGKILL is finished by its rerun with no RUNNING orphan; and a sweep against the server with
 * MLflow's basic-auth app on SQLite logs with credentials from the environment, every run showing
 * user, source, commit and datasets — and every cell's model a READY logged model with its test
 * metrics, registered (`--register --alias --alias-best-on-test`), which `predict --model
 * models:/NAME@ALIAS` downloads and scores images with.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelRegistryClient, RestTrackingStore, type Run, searchAllLoggedModels, searchAllRuns } from '@cfa/tracking';
import { findServeScript, freePort, REAL_SERVER_ADMIN, type RealServer, startRealMlflow } from '@cfa/tracking/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellResult } from '../run/run-cell';
import { REPO_ROOT, runCli, startCli, waitFor } from '../testing/cli-process';
import { TINY_BASE, tinyDataset } from '../testing/tiny-dataset';
import { writeSweepFile } from '../testing/sweep-file';
import { CFA_TAGS, COMPANION_PREFIX, epochMetrics, epochTestMetrics, finalMetrics } from '../tracking/tracked-cell';

const { script, reason } = findServeScript();
if (!script) process.stderr.write(`[experiments] real-MLflow end-to-end tests skipped: ${reason}\n`);

/**
 * Every metric a finished cell sent, as `key@step`: rebuilt from its own record (result.json,
 * written before the upload) with the functions the tracked cell logs through — each epoch of
 * its history (and the CFA++ companion's, and the per-epoch test metrics where evaluated), then
 * its final metrics.
 */
function sentMetrics(result: CellResult): string[] {
  return [
    ...result.history.flatMap((e) => epochMetrics(e)),
    ...(result.ensemble?.companion.history.flatMap((e) => epochMetrics(e, COMPANION_PREFIX)) ?? []),
    ...(result.epochs?.flatMap(({ epoch, metrics }) => epochTestMetrics(epoch, metrics)) ?? []),
    ...finalMetrics(result),
  ].map((m) => `${m.key}@${m.step}`);
}

describe.skipIf(!script)('experiments against the real MLflow server', () => {
  let server: RealServer;
  let store: string;
  let port: number;
  let uri: string;
  let dataRoot: string;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'real-e2e-'));
    store = join(dir, 'mlruns');
    port = await freePort();
    server = await startRealMlflow(script!, store, port);
    uri = server.url;
    dataRoot = await tinyDataset(['weave', 'disc']);
  }, 600_000);
  afterAll(async () => server?.stop());

  const rest = () => new RestTrackingStore({ uri, retry: { attempts: 3, baseDelayMs: 100 } });
  async function runsOf(name: string): Promise<Run[]> {
    const s = rest();
    const exp = await s.getExperimentByName(name);
    const runs = exp ? await searchAllRuns(s, { experimentIds: [exp.experimentId] }) : [];
    await s.close();
    return runs;
  }

  it('nx run experiments:ablation-loss (tiny: one category, one epoch, small images) logs parent, children and the table', async () => {
    // the real sweep file — its axes (two backbones × three losses), report and paper rows — with
    // the tiny data's small view added to its base: the WRN50-2 cells at 224 px were most of this
    // test's time and the run structure is what is tested here
    const real = parseYaml(await readFile(join(REPO_ROOT, 'experiments/ablation-loss.yaml'), 'utf8')) as {
      name: string;
      base: Record<string, unknown>;
    };
    const file = await writeSweepFile(dir, { ...real, base: { ...real.base, view: TINY_BASE.view } });
    const result = await runCli([
      'sweep',
      file,
      '--data-root',
      dataRoot,
      '--categories',
      'weave',
      '--epochs',
      '1',
      '--seeds',
      '0',
      '--tracking-uri',
      uri,
      '--out',
      join(dir, 'out-ablation'),
      '--feature-cache',
      join(dir, 'cache'),
      // the run structure is what is tested here (model outputs: e2e/model-export.spec.ts); three
      // wide_resnet50_2 cells would otherwise upload ≈ 170 MB of model each
      '--model-outputs',
      'none',
    ]);
    expect(result.code, result.output).toBe(0);
    const runs = await runsOf('ablation-loss');
    const parent = runs.find(
      (r) => !r.data.tags['mlflow.parentRunId'] && r.data.tags['cfa.sweep'] === 'ablation-loss',
    )!;
    expect(parent.info.status).toBe('FINISHED');
    const children = runs.filter((r) => r.data.tags['mlflow.parentRunId'] === parent.info.runId);
    expect(children).toHaveLength(6);
    expect(children.every((c) => c.info.status === 'FINISHED')).toBe(true);
    const s = rest();
    expect((await s.listArtifacts(parent.info.runId)).map((a) => a.path)).toEqual(
      expect.arrayContaining(['comparison.md', 'comparison.json']),
    );
    // the ResNet-18 block: its textures row, then the mean over all categories
    expect((await s.downloadArtifact(parent.info.runId, 'comparison.md')).toString()).toMatch(
      /\| ResNet-18 +\| textures +\|[^\n]*\n\| +\| all +\| +\d/,
    );
    await s.close();
  }, 600_000);

  it('the server stopped mid-sweep and restarted: 0 metrics lost, none duplicated', async () => {
    const epochs = 25;
    const file = await writeSweepFile(dir, {
      name: 'outage',
      reproduces: 'Table 5 (outage test)',
      dataRoot,
      categories: ['weave', 'disc'],
      heatmaps: 0,
      base: { ...TINY_BASE, training: { ...TINY_BASE.training, epochs } },
      axes: [{ grid: { 'loss.terms': ['att', 'att+rep'] } }],
    });
    const sweep = startCli([
      'sweep',
      file,
      '--tracking-uri',
      uri,
      '--out',
      join(dir, 'out-outage'),
      '--feature-cache',
      join(dir, 'cache'),
    ]);
    await waitFor(
      'a finished cell',
      async () => (await runsOf('outage')).some((r) => r.info.status === 'FINISHED'),
      300_000,
      200,
    );
    await server.stop();
    const down = Date.now();
    await new Promise((r) => setTimeout(r, 6_000)); // the sweep keeps training meanwhile
    server = await startRealMlflow(script!, store, port);
    const code = await sweep.exited;
    expect(code, sweep.output()).toBe(0);
    expect(sweep.output()).toMatch(/spooling to/);
    const runs = await runsOf('outage');
    const children = runs.filter((r) => r.data.tags['mlflow.parentRunId']);
    expect(children.filter((c) => c.info.status === 'FINISHED')).toHaveLength(4);
    const s = rest();
    let sent = 0,
      found = 0;
    for (const child of children) {
      const cellDir = join(dir, 'out-outage', child.data.tags[CFA_TAGS.cellKey]);
      const result = JSON.parse(await readFile(join(cellDir, 'result.json'), 'utf8')) as CellResult;
      expect(result.history, `${child.info.runName}: every epoch in its own record`).toHaveLength(epochs);
      const expected = sentMetrics(result);
      const onServer: string[] = [];
      for (const key of new Set(expected.map((m) => m.slice(0, m.lastIndexOf('@'))))) {
        const history = await s.getMetricHistory(child.info.runId, key);
        onServer.push(...history.map((m) => `${m.key}@${m.step}`));
      }
      sent += expected.length;
      found += onServer.length;
      // the same key@step set, each once: nothing lost, nothing duplicated
      expect(onServer.toSorted(), child.info.runName).toEqual(expected.toSorted());
    }
    await s.close();
    process.stderr.write(
      `[outage test] server down ${((Date.now() - down) / 1000) | 0} s; metrics sent ${sent}, found ${found}, lost ${sent - found}\n`,
    );
    expect(sent - found).toBe(0);
  }, 900_000);

  it('a sweep killed with SIGKILL mid-cell: the rerun finishes only the missing cells, no RUNNING orphan', async () => {
    const file = await writeSweepFile(dir, {
      name: 'killed',
      reproduces: 'Table 5 (kill test)',
      dataRoot,
      categories: ['weave', 'disc'],
      heatmaps: 0,
      base: { ...TINY_BASE, training: { ...TINY_BASE.training, epochs: 60 } },
      axes: [{ grid: { 'loss.terms': ['att'] } }],
    });
    const args = [
      'sweep',
      file,
      '--tracking-uri',
      uri,
      '--out',
      join(dir, 'out-killed'),
      '--feature-cache',
      join(dir, 'cache'),
    ];
    const first = startCli(args);
    await waitFor(
      'a running cell',
      async () =>
        (await runsOf('killed')).some((r) => r.data.tags['mlflow.parentRunId'] && r.info.status === 'RUNNING'),
      300_000,
      100,
    );
    first.kill9();
    await first.exited;
    const rerun = await runCli(args);
    expect(rerun.code, rerun.output).toBe(0);
    const children = (await runsOf('killed')).filter((r) => r.data.tags['mlflow.parentRunId']);
    expect(children.filter((c) => c.info.status === 'RUNNING')).toEqual([]);
    expect(
      children
        .filter((c) => c.info.status === 'FINISHED')
        .map((c) => c.data.tags['cfa.cell.key'])
        .sort(),
    ).toEqual([...new Set(children.map((c) => c.data.tags['cfa.cell.key']))].sort());
    expect(children.filter((c) => c.info.status === 'KILLED')).toHaveLength(1);
  }, 600_000);
});

describe.skipIf(!script)('a sweep against the real server with basic-auth on SQLite', () => {
  let server: RealServer | undefined;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'real-auth-e2e-'));
    server = await startRealMlflow(script!, `sqlite:///${join(dir, 'mlflow.db')}`, undefined, { auth: true });
  }, 600_000);
  afterAll(async () => server?.stop());

  it('logs with credentials from the environment; every run shows user, source, commit and datasets; every model is logged, registered, aliased, and predicts from models:/NAME@ALIAS', async () => {
    const dataRoot = await tinyDataset(['weave']);
    const file = await writeSweepFile(dir, {
      name: 'auth-sweep',
      reproduces: 'Table 5 (auth test)',
      dataRoot,
      categories: ['weave'],
      heatmaps: 1,
      base: TINY_BASE,
      axes: [{ grid: { 'loss.terms': ['none', 'att'] } }],
    });
    const env = {
      MLFLOW_TRACKING_USERNAME: REAL_SERVER_ADMIN.username,
      MLFLOW_TRACKING_PASSWORD: REAL_SERVER_ADMIN.password,
    };
    const result = await runCli(
      [
        'sweep',
        file,
        '--tracking-uri',
        server!.url,
        '--out',
        join(dir, 'out'),
        '--feature-cache',
        join(dir, 'cache'),
        '--register',
        'auth-weave',
        '--alias',
        'champion',
        '--alias-best-on-test',
        'image_auroc',
      ],
      env,
    );
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/registered 2 new version\(s\) of 'auth-weave'/);
    expect(result.output).toMatch(
      /alias champion → version \d .*best-on-test:image_auroc\): models:\/auth-weave@champion/,
    );
    expect(result.output).toContain("Basic auth as 'admin' (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD)");
    expect(result.output).not.toContain(REAL_SERVER_ADMIN.password);
    const store = new RestTrackingStore({ uri: server!.url, env });
    const experiment = (await store.getExperimentByName('auth-sweep'))!;
    const runs = await searchAllRuns(store, { experimentIds: [experiment.experimentId] });
    expect(runs).toHaveLength(3);
    for (const run of runs) {
      expect(run.info.userId).toBe('admin');
      expect(run.data.tags).toMatchObject({
        'mlflow.user': 'admin',
        'mlflow.source.type': 'LOCAL',
        'mlflow.source.name': 'apps/experiments/src/main.ts',
      });
      expect(run.data.tags['mlflow.source.git.commit']).toMatch(/^[0-9a-f]{40}$/);
      expect(run.info.status).toBe('FINISHED');
    }
    const children = runs.filter((r) => r.data.tags['mlflow.parentRunId']);
    for (const child of children)
      expect(
        child.inputs.datasetInputs.map((d) => `${d.dataset.name} ${d.tags['mlflow.data.context']}`).sort(),
      ).toEqual(['weave test', 'weave train']);
    // the Models tab: one READY model per cell, with its test metrics on the test set
    const models = await searchAllLoggedModels(store, { experimentIds: [experiment.experimentId] });
    expect(models.map((m) => m.status)).toEqual(['READY', 'READY']);
    expect(models.map((m) => m.sourceRunId).sort()).toEqual(children.map((c) => c.info.runId).sort());
    for (const m of models)
      for (const key of ['image_auroc', 'pixel_auroc', 'pixel_aupro'])
        expect(
          m.metrics.find((x) => x.key === key),
          key,
        ).toMatchObject({ datasetName: 'weave' });
    // the champion scored highest on the test set (ties: the first cell)
    const auroc = (id: string) =>
      models.find((m) => m.modelId === id)!.metrics.find((x) => x.key === 'image_auroc')!.value;
    const registry = new ModelRegistryClient({ uri: server!.url, env });
    const champion = await registry.getModelVersionByAlias('auth-weave', 'champion');
    expect(auroc(champion.modelId)).toBe(Math.max(...models.map((m) => auroc(m.modelId))));
    await registry.close();
    await store.close();
    // predict from the registry, with the credentials from the environment
    const out = join(dir, 'predicted');
    const predicted = await runCli(
      [
        'predict',
        '--model',
        'models:/auth-weave@champion',
        '--tracking-uri',
        server!.url,
        '--input',
        join(dataRoot, 'weave', 'test'),
        '--out',
        out,
        '--model-cache',
        join(dir, 'models'),
        '--no-heatmaps',
      ],
      env,
    );
    expect(predicted.code, predicted.output).toBe(0);
    expect(predicted.output).toMatch(/models:\/auth-weave@champion = version \d of 'auth-weave'/);
    const scores = JSON.parse(await readFile(join(out, 'scores.json'), 'utf8')) as { images: unknown[] };
    expect(scores.images.length).toBeGreaterThan(0);
  }, 600_000);
});
