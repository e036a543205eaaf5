/**
 * A whole sweep through the local executor on a tiny synthetic dataset: MLflow structure (parent,
 * nested children, params, per-epoch metrics, artifacts), resumption, failures, and the same sweep
 * through the REST client on the fake server.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectEngine } from '@cfa/tensor-runtime';
import {
  FileTrackingStore,
  searchAllLoggedModels,
  RestTrackingStore,
  searchAllRuns,
  type TrackingStore,
} from '@cfa/tracking';
import { startFakeMlflowServer } from '@cfa/tracking/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { TINY_BASE, tinyDataset } from '../testing/tiny-dataset';
import { finishSweep } from './finish-sweep';
import { loadSweep } from './load-sweep';
import { runSweepLocally } from './run-sweep-local';
import { childRuns, openSweepParent, type OpenSweepOptions } from './sweep-runs';
import { writeSweepFile } from '../testing/sweep-file';

let dataRoot: string;
let dir: string;
beforeAll(async () => {
  dataRoot = await tinyDataset();
  dir = await mkdtemp(join(tmpdir(), 'sweep-run-'));
});

async function tinySweep(extra: object = {}): Promise<string> {
  const file = await writeSweepFile(dir, {
    name: 'tiny-ablation',
    reproduces: 'Table 5 (tiny)',
    dataRoot,
    categories: ['weave', 'disc'],
    heatmaps: 1,
    base: TINY_BASE,
    axes: [{ grid: { 'loss.terms': ['none', 'att+rep'] } }],
    report: { rows: 'loss.terms', metrics: ['imageAuroc', 'pixelAuroc'] },
    ...extra,
  });
  return file;
}

async function runSweep(store: TrackingStore, file: string, overrides = {}, open: OpenSweepOptions = {}) {
  const engine = await selectEngine({ requested: 'auto', tfBackend: 'wasm', threads: 2 });
  const loaded = await loadSweep(file, overrides);
  const parent = await openSweepParent(store, loaded, open);
  const outcome = await runSweepLocally({
    store,
    loaded,
    parent,
    engine,
    outRoot: join(dir, 'out'),
    log: () => undefined,
  });
  const table = await finishSweep(store, loaded, parent, join(dir, 'out'));
  return { loaded, parent, outcome, table };
}

describe('local sweep executor', () => {
  it('logs one parent and one nested child per cell, with params, epoch metrics, final metrics and artifacts; a rerun runs nothing', async () => {
    const store = new FileTrackingStore(join(dir, 'mlruns'));
    const file = await tinySweep();
    const first = await runSweep(store, file);
    expect(first.outcome).toMatchObject({ ran: 4, skipped: 0, failed: [] });
    const children = await childRuns(store, first.parent.experimentId, first.parent.parentRunId);
    expect(children).toHaveLength(4);
    expect(children.every((c) => c.info.status === 'FINISHED')).toBe(true);
    const trained = children.find((c) => c.data.params['loss.terms'] === 'att+rep')!;
    expect(trained.data.tags['cfa.weights']).toBe('random');
    expect(trained.data.tags.weights).toBeUndefined();
    expect(trained.data.params['dataset.category']).toMatch(/weave|disc/);
    expect(trained.data.params['training.epochs']).toBe('1');
    expect((await store.getMetricHistory(trained.info.runId, 'train/loss')).map((m) => m.step)).toEqual([1]);
    expect(trained.data.metrics.image_auroc.value).toBeGreaterThan(0);
    const artifacts = (await store.listArtifacts(trained.info.runId)).map((a) => a.path);
    expect(artifacts).toEqual(expect.arrayContaining(['heatmaps', 'plots', 'result.json', 'scores.csv']));
    // the model's folders are its logged model's: one READY model per cell, each the output of its run
    expect(artifacts).not.toContain('mlflow-model');
    const models = await searchAllLoggedModels(store, { experimentIds: [first.parent.experimentId] });
    expect(models.map((m) => m.status)).toEqual(['READY', 'READY', 'READY', 'READY']);
    expect(models.map((m) => m.sourceRunId).sort()).toEqual(children.map((c) => c.info.runId).sort());
    expect((await store.listArtifacts(trained.info.runId, 'plots')).map((a) => a.path).sort()).toEqual([
      'plots/feature-space.png',
      'plots/pro.png',
      'plots/roc.png',
    ]);
    const parentRun = await store.getRun(first.parent.parentRunId);
    expect(parentRun.info.status).toBe('FINISHED');
    expect((await store.listArtifacts(first.parent.parentRunId)).map((a) => a.path)).toEqual(
      expect.arrayContaining(['comparison.md', 'comparison.csv', 'cells.csv', 'comparison.json', 'plots', 'sweep']),
    );
    expect((await store.listArtifacts(first.parent.parentRunId, 'plots')).map((a) => a.path).sort()).toEqual([
      'plots/imageAuroc-by-category.png',
      'plots/pixelAuroc-by-category.png',
    ]);
    expect(first.table.records.filter((r) => r.metric === 'imageAuroc').map((r) => [r.row, r.group])).toEqual([
      ['none', 'textures'],
      ['none', 'objects'],
      ['none', 'all'],
      ['att+rep', 'textures'],
      ['att+rep', 'objects'],
      ['att+rep', 'all'],
    ]);

    const again = await runSweep(store, file);
    expect(again.parent.parentRunId).toBe(first.parent.parentRunId);
    expect(again.outcome).toMatchObject({ ran: 0, skipped: 4 });
    expect(await childRuns(store, first.parent.experimentId, first.parent.parentRunId)).toHaveLength(4);
  });

  it('every run, parent and children, says who ran which source at which commit, and children name the datasets they read', async () => {
    const store = new FileTrackingStore(join(dir, 'mlruns-meta'));
    const { parent } = await runSweep(store, await tinySweep(), { categories: ['weave'] });
    const runs = [
      await store.getRun(parent.parentRunId),
      ...(await childRuns(store, parent.experimentId, parent.parentRunId)),
    ];
    expect(runs).toHaveLength(3);
    for (const run of runs) {
      const t = run.data.tags;
      expect(t['mlflow.user'], run.info.runName).toBeTruthy();
      expect(run.info.userId).toBe(t['mlflow.user']);
      expect(t['mlflow.source.type']).toBe('LOCAL');
      expect(t['mlflow.source.name']).toMatch(/\S/);
      // the plain commit hash; whether the checkout was dirty is a tag of its own
      expect(t['mlflow.source.git.commit']).toMatch(/^[0-9a-f]{40}$/);
      expect(t['cfa.source.git.dirty']).toMatch(/^(true|false)$/);
      expect(t['cfa.code.hash']).toBe(parent.codeHash);
    }
    for (const child of runs.slice(1)) {
      const inputs = child.inputs.datasetInputs;
      expect(inputs.map((d) => d.tags['mlflow.data.context']).sort()).toEqual(['test', 'train']);
      expect(inputs.every((d) => d.dataset.name === 'weave' && /^[0-9a-f]{16}$/.test(d.dataset.digest))).toBe(true);
      expect(JSON.parse(inputs[0].dataset.source)).toEqual({ uri: dataRoot });
      // train and test are different files, so different digests; both children read the same ones
      expect(new Set(inputs.map((d) => d.dataset.digest)).size).toBe(2);
    }
    expect(runs[1].inputs.datasetInputs.map((d) => d.dataset.digest).sort()).toEqual(
      runs[2].inputs.datasetInputs.map((d) => d.dataset.digest).sort(),
    );
  });

  it('resume is honest about code: cells computed by other code run again (same-code), or are kept and flagged (any-code); --fresh starts over', async () => {
    const store = new FileTrackingStore(join(dir, 'mlruns-code'));
    const file = await tinySweep();
    const first = await runSweep(store, file, { categories: ['disc'] });
    expect(first.outcome).toMatchObject({ ran: 2, skipped: 0 });
    expect(first.table.note).toBe(
      `Code: every number from code ${first.parent.codeHash} (this checkout), commit ${(await store.getRun(first.parent.parentRunId)).data.tags['mlflow.source.git.commit'].slice(0, 12)}${(await store.getRun(first.parent.parentRunId)).data.tags['cfa.source.git.dirty'] === 'true' ? ' (dirty)' : ''}.`,
    );
    // as if the two cells had been computed by an older version of the code
    const [a, b] = await childRuns(store, first.parent.experimentId, first.parent.parentRunId);
    for (const run of [a, b]) await store.setTag(run.info.runId, 'cfa.code.hash', 'olderc0de0000000');
    const keep = await runSweep(store, file, { categories: ['disc'] }, { resume: 'any-code' });
    expect(keep.outcome).toMatchObject({ ran: 0, skipped: 2 });
    expect(keep.table.note).toMatch(/^Code: every number from code olderc0de0000000, commit/);
    const honest = await runSweep(store, file, { categories: ['disc'] });
    expect(honest.parent.parentRunId).toBe(first.parent.parentRunId);
    expect(honest.outcome).toMatchObject({ ran: 2, skipped: 0, rerunForCode: 2 });
    expect(honest.table.note).toMatch(/this checkout/);
    const children = await childRuns(store, first.parent.experimentId, first.parent.parentRunId);
    expect(children.filter((c) => c.info.status === 'FINISHED')).toHaveLength(4);
    const parentRun = await store.getRun(first.parent.parentRunId);
    expect(parentRun.data.tags['cfa.code.hashes']).toBe(first.parent.codeHash);
    const json = JSON.parse((await store.downloadArtifact(first.parent.parentRunId, 'comparison.json')).toString());
    expect(json.provenance.map((p: { codeHash: string }) => p.codeHash)).toEqual([
      first.parent.codeHash,
      first.parent.codeHash,
    ]);
    // a mix of code versions, kept with any-code, is spelled out cell by cell
    await store.setTag(
      children.find((c) => c.data.tags['cfa.code.hash'] === first.parent.codeHash)!.info.runId,
      'cfa.code.hash',
      'x',
    );
    const mixed = await runSweep(store, file, { categories: ['disc'] }, { resume: 'any-code' });
    expect(mixed.table.note).toMatch(/^Code: numbers from 2 code versions/);
    const fresh = await runSweep(store, file, { categories: ['disc'] }, { fresh: true });
    expect(fresh.parent.parentRunId).not.toBe(first.parent.parentRunId);
    expect(fresh.outcome).toMatchObject({ ran: 2, skipped: 0 });
    // and the next plain run resumes the newest parent
    expect((await runSweep(store, file, { categories: ['disc'] })).parent.parentRunId).toBe(fresh.parent.parentRunId);
  });

  it('a cell that fails (bad weights file) is FAILED with its error, the others finish, a rerun retries only it', async () => {
    const store = new FileTrackingStore(join(dir, 'mlruns-fail'));
    const bad = join(dir, 'broken.safetensors');
    await writeFile(bad, 'not weights');
    const file = await tinySweep({
      name: 'tiny-ablation',
      axes: [{ grid: { 'backbone.weights': [bad] } }, { grid: { 'loss.terms': ['none'] } }],
    });
    const { outcome, parent } = await runSweep(store, file, { categories: ['weave'] });
    expect(outcome.failed).toHaveLength(1);
    const [run] = await childRuns(store, parent.experimentId, parent.parentRunId);
    expect(run.info.status).toBe('FAILED');
    expect(run.data.tags['cfa.error']).toMatch(/broken\.safetensors: header length \d+ exceeds the file/);
    const rerun = await runSweep(store, file, { categories: ['weave'] });
    expect(rerun.outcome.ran).toBe(1);
  });

  it("an ensemble axis [none, cfa++]: CFA++ cells are tagged, log the companion's epochs apart from the primary's, and meet the paper numbers in the table", async () => {
    const store = new FileTrackingStore(join(dir, 'mlruns-ensemble'));
    const file = await tinySweep({
      base: { ...TINY_BASE, training: { ...TINY_BASE.training, epochs: 2 } },
      categories: ['disc'],
      axes: [{ grid: { ensemble: ['none', 'cfa++'] } }],
      report: {
        columns: 'ensemble',
        metrics: ['imageAuroc', 'pixelAupro'],
        paper: { '-': { none: { imageAuroc: 99.3 }, 'cfa++': { imageAuroc: 99.5 } } },
      },
    });
    const { outcome, parent, table } = await runSweep(store, file);
    expect(outcome).toMatchObject({ ran: 2, failed: [] });
    const children = await childRuns(store, parent.experimentId, parent.parentRunId);
    const plain = children.find((c) => c.data.params.ensemble === 'none')!;
    const plus = children.find((c) => c.data.params.ensemble === 'cfa++')!;
    expect(plain.data.tags['cfa.ensemble']).toBe('none');
    expect(plus.data.tags['cfa.ensemble']).toBe('cfa++');
    expect(plus.data.tags['cfa.ensemble.views']).toBe('center-crop:64:56 + resize:56');
    expect(plain.data.tags['cfa.ensemble.views']).toBeUndefined();
    const history = async (run: typeof plain, key: string) =>
      (await store.getMetricHistory(run.info.runId, key)).sort((a, b) => a.step - b.step);
    // the primary model of a CFA++ cell is the plain CFA model: same losses at the same steps
    const plainLoss = await history(plain, 'train/loss');
    const primaryLoss = await history(plus, 'train/loss');
    expect(primaryLoss.map((m) => m.step)).toEqual([1, 2]);
    primaryLoss.forEach((m, i) => expect(m.value).toBeCloseTo(plainLoss[i].value, 6));
    const companionLoss = await history(plus, 'companion/train/loss');
    expect(companionLoss.map((m) => m.step)).toEqual([1, 2]);
    expect(companionLoss.map((m) => m.value)).not.toEqual(primaryLoss.map((m) => m.value));
    expect(await history(plain, 'companion/train/loss')).toEqual([]);
    expect(plus.data.metrics.companion_radius.value).toBeGreaterThan(0);
    for (const key of ['image_auroc', 'pixel_auroc', 'pixel_aupro'])
      expect(Number.isFinite(plus.data.metrics[key].value), key).toBe(true);
    const all = (col: string) =>
      table.records.find((r) => r.group === 'all' && r.col === col && r.metric === 'imageAuroc')!;
    expect(all('none').paper).toBe(99.3);
    expect(all('cfa++')).toMatchObject({ paper: 99.5, seeds: 1, comparedTo: 'none' });
    expect(all('cfa++').mean).toBeCloseTo(100 * plus.data.metrics.image_auroc.value, 10);
    expect(table.markdown.split('\n')[0]).toMatch(
      /^\| categories +\| CFA I-AUROC \| CFA P-AUPRO \| CFA\+\+ I-AUROC \| CFA\+\+ P-AUPRO \|$/,
    );
    expect(table.markdown).toMatch(/\| paper +\| +99\.3 \| +\| +99\.5 \| +\|/);
  });

  it('a method axis: PaDiM and CFA cells in one sweep (perMethod fields), columns by method with time and memory', async () => {
    const store = new FileTrackingStore(join(dir, 'mlruns-methods'));
    const { view, ...cfaOnly } = TINY_BASE;
    const file = await tinySweep({
      name: 'tiny-methods',
      categories: ['disc'],
      base: { view },
      perMethod: { cfa: cfaOnly, padim: { dimensions: 16, sigma: 1 } },
      axes: [{ zip: { method: ['padim', 'cfa'] } }],
      model: { bundle: false, mlflow: false },
      report: { columns: 'method', metrics: ['imageAuroc', 'fitMsPerImage', 'scoreMsPerImage', 'bankMegabytes'] },
    });
    const { outcome, parent, table } = await runSweep(store, file);
    expect(outcome).toMatchObject({ ran: 2, failed: [] });
    const children = await childRuns(store, parent.experimentId, parent.parentRunId);
    const padim = children.find((c) => c.data.params.method === 'padim')!;
    // 56 px: a 14×14 grid of Gaussians over 16 channels, μ and Σ⁻¹ as float32
    expect(padim.data.metrics.bank_bytes.value).toBe(4 * 196 * (16 + 16 * 16));
    // per-position Gaussians log how much of their features' spread is left within positions; CFA has none
    expect(padim.data.metrics.within_position_share.value).toBeGreaterThan(0);
    expect(padim.data.metrics.within_position_share.value).toBeLessThan(1);
    expect(children.find((c) => c.data.params.method === 'cfa')!.data.metrics.within_position_share).toBeUndefined();
    for (const child of children)
      for (const key of ['fit_ms_per_image', 'score_ms_per_image'])
        expect(child.data.metrics[key].value, `${child.data.params.method} ${key}`).toBeGreaterThan(0);
    const bank = table.records.find((r) => r.col === 'padim' && r.group === 'all' && r.metric === 'bankMegabytes')!;
    expect(bank.mean).toBeCloseTo((4 * 196 * 272) / 1e6, 10);
    expect(table.markdown.split('\n')[0]).toMatch(
      /^\| categories +\| PaDiM I-AUROC \| PaDiM fit ms\/img \|.*\| CFA bank MB \|$/,
    );
  });

  it('logs the same structure to an MLflow server through REST (fake server)', async () => {
    const fake = await startFakeMlflowServer();
    const store = new RestTrackingStore({ uri: fake.url });
    const { parent } = await runSweep(store, await tinySweep(), { categories: ['disc'] });
    const runs = await searchAllRuns(store, { experimentIds: [parent.experimentId] });
    expect(runs).toHaveLength(3);
    expect(runs.filter((r) => r.data.tags['mlflow.parentRunId'] === parent.parentRunId)).toHaveLength(2);
    await store.close();
    await fake.close();
  });
});
