import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SYNTHETIC_CATEGORIES } from '@cfa/data';
import { RunConfigSchema } from '../run/run-config';
import { cellKey, SweepError } from './expand-sweep';
import { loadSweep } from './load-sweep';
import type { TableAxis } from './sweep-schema';
import { tableAxisValue } from '../report/axis-labels';
import { modelOutputs } from '../cli/sweep';
import { runCfaInProcess } from '../testing/run-in-process';
import { configOf } from '../testing/config-of';

async function sweepFile(name: string, content: object | string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sweeps-'));
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, typeof content === 'string' ? content : stringify(content));
  return file;
}

const valid = {
  name: 'demo',
  reproduces: 'Table 6',
  categories: ['weave', 'disc'],
  seeds: [0, 1],
  base: { training: { epochs: 2 } },
};

describe('loadSweep', () => {
  it('grid axes multiply, zip axes pair, and categories × seeds multiply the cells', async () => {
    const file = await sweepFile('demo', {
      ...valid,
      axes: [
        { zip: { 'descriptor.gammaD': [1, 4], 'memoryBank.gammaC': [1, 4] } },
        { grid: { 'loss.terms': ['att', 'att+rep'] } },
      ],
    });
    const { cells } = await loadSweep(file);
    expect(cells).toHaveLength(2 * 2 * 2 * 2);
    const configs = cells.map((c) => configOf('cfa', c.config));
    expect(configs.every((c) => c.descriptor.gammaD === c.memoryBank.gammaC)).toBe(true);
    expect(new Set(cells.map((c) => c.key)).size).toBe(16);
    expect(configs[0].training.epochs).toBe(2);
    // keys are deterministic: what the numbers depend on, not the order of the file
    expect((await loadSweep(file)).cells.map((c) => c.key)).toEqual(cells.map((c) => c.key));
  });

  it('a cases axis sets fields only some methods have; unified cells train on every category of the sweep', async () => {
    const file = await sweepFile('demo', {
      ...valid,
      axes: [
        {
          cases: [
            { method: 'cfa' },
            { method: 'crad', 'training.unified': false },
            { method: 'crad', 'training.unified': true },
          ],
        },
      ],
    });
    const { cells } = await loadSweep(file);
    expect(cells).toHaveLength(3 * 2 * 2);
    const trainOn = (method: string, unified?: boolean) =>
      cells
        .filter((c) => c.config.method === method && c.assignments['training.unified'] === unified)
        .map((c) => c.config.dataset.trainCategories);
    expect(trainOn('cfa')).toEqual([undefined, undefined, undefined, undefined]);
    expect(trainOn('crad', false)).toEqual([undefined, undefined, undefined, undefined]);
    expect(trainOn('crad', true)).toEqual(Array(4).fill(['weave', 'disc']));
    // a field the case's method lacks is named at its case
    const bad = await sweepFile('demo', { ...valid, axes: [{ cases: [{ method: 'cfa', 'training.unified': true }] }] });
    await expect(loadSweep(bad)).rejects.toThrow(/axes\[0\]\.cases\[0\]\["training\.unified"\]/);
  });

  it('lists every problem of a bad file with its path: unknown key, wrong type, unknown backbone and category, empty axis', async () => {
    const file = await sweepFile('bad', {
      name: 'bad',
      reproduces: 'x',
      categories: ['weave', 'carpet'],
      colour: 'red',
      base: { training: { epocs: 3 }, backbone: { name: 'alexnet' } },
      axes: [{ grid: { 'loss.terms': [], 'memoryBank.gamaC': [2] } }, { zip: { 'descriptor.gammaD': ['two'] } }],
    });
    const error = await loadSweep(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SweepError);
    const paths = (error as SweepError).problems.map((p) => p.path).sort();
    expect(paths).toEqual(
      [
        'axes[0].grid["loss.terms"]',
        'axes[0].grid["memoryBank.gamaC"][0]',
        'axes[1].zip["descriptor.gammaD"][0]',
        'base.backbone.name',
        'base.training.epocs',
        'categories[1]',
        'colour',
      ].sort(),
    );
    expect((error as SweepError).message).toMatch(/bad\.yaml: 7 problems/);
  });

  it('names YAML syntax errors, zip length mismatches and a name that differs from the file', async () => {
    await expect(loadSweep(await sweepFile('broken', 'name: [unclosed'))).rejects.toThrow(
      /broken\.yaml: .*\n✖ not valid YAML/,
    );
    const zip = await sweepFile('zipped', {
      ...valid,
      name: 'zipped',
      axes: [{ zip: { 'descriptor.gammaD': [1, 2], 'memoryBank.gammaC': [1] } }],
    });
    await expect(loadSweep(zip)).rejects.toThrow(
      /zip fields must have the same length[\s\S]*axes\[0\]\.zip\.memoryBank\.gammaC/,
    );
    await expect(loadSweep(await sweepFile('other', valid))).rejects.toThrow(
      /name 'demo' must match the file name 'other'/,
    );
  });

  it('an axis field through __proto__ or constructor is an unknown key, and never reaches Object.prototype', async () => {
    const file = await sweepFile('demo', {
      ...valid,
      axes: [{ grid: { '__proto__.polluted': [1], 'constructor.prototype.polluted': [2] } }],
    });
    const error = await loadSweep(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SweepError);
    expect((error as SweepError).problems.map((p) => p.message).sort()).toEqual([
      "unknown key '__proto__'",
      "unknown key 'constructor'",
    ]);
    expect(Object.keys(Object.prototype)).toEqual([]);
  });

  it('refuses a repeated seed, category or axis value (each cell runs once), and a sweep past --max-cells, counted before expanding', async () => {
    const twice = await sweepFile('demo', {
      ...valid,
      categories: ['weave', 'disc', 'weave'],
      seeds: [0, 1, 0],
      axes: [{ grid: { 'memoryBank.gammaC': [2, 2] } }, { zip: { 'descriptor.gammaD': [1, 1] } }],
    });
    const error = (await loadSweep(twice).catch((e: unknown) => e)) as SweepError;
    expect(error.problems.map((p) => p.path)).toEqual([
      'categories[2]',
      'seeds[2]',
      'axes[0].grid["memoryBank.gammaC"][1]',
      'axes[1].zip[1]',
    ]);
    expect(error.problems[1].message).toBe('seed 0 is listed twice (also at seeds[0]): its cells would run twice');
    // axes of a million combinations: refused from the count, never expanded (that took minutes)
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    const huge = await sweepFile('demo', {
      ...valid,
      axes: [{ grid: { 'memoryBank.gammaC': hundred, 'descriptor.gammaD': hundred, 'training.epochs': hundred } }],
    });
    const tooMany = (await loadSweep(huge).catch((e: unknown) => e)) as SweepError;
    expect(tooMany.problems).toEqual([
      {
        path: '(cells)',
        message:
          '4,000,000 cells = 2 categories × 2 seeds × 1,000,000 axis combinations, more than the 1000 allowed; each cell is a training run: shorten the lists, or raise --max-cells if you mean it',
      },
    ]);
    // a 1.4-million-seed list: refused by its size before the YAML parse, which takes minutes
    const seeds = await sweepFile('demo', `${stringify(valid)}\n# ${'x'.repeat(1 << 20)}\n`);
    await expect(loadSweep(seeds)).rejects.toThrow(
      /demo\.yaml: 1 problem\n✖ 1\.0 MiB, more than the 1 MiB a run or sweep file may be/,
    );
    expect(await loadSweep(await sweepFile('demo', valid), {}, { maxCells: 3 }).catch((e: Error) => e.message)).toMatch(
      /4 cells = 2 categories × 2 seeds × 1 axis combination, more than the 3 allowed/,
    );
  });

  it("perMethod: one method's fields for its cells only; --epochs reaches the methods that train", async () => {
    const mixed = {
      ...valid,
      base: {},
      perMethod: { cfa: { training: { epochs: 2 } }, padim: { dimensions: 20 } },
      axes: [{ zip: { method: ['padim', 'cfa', 'cfa'], ensemble: ['none', 'none', 'cfa++'] } }],
      report: { columns: ['method', 'ensemble'], columnLabels: { 'cfa · cfa++': 'CFA++' } },
    };
    const file = await sweepFile('demo', mixed);
    const { cells } = await loadSweep(file);
    expect(cells).toHaveLength(3 * 2 * 2);
    const padim = cells.find((c) => c.config.method === 'padim')!;
    expect(padim.config).toMatchObject({ method: 'padim', dimensions: 20 });
    expect(padim.config.training).toBeUndefined();
    expect(cells.filter((c) => c.config.method === 'cfa').every((c) => c.config.training?.epochs === 2)).toBe(true);
    const { cells: seven } = await loadSweep(file, { epochs: 7 });
    expect(seven.map((c) => c.config.training?.epochs)).toEqual(
      cells.map((c) => (c.config.method === 'cfa' ? 7 : undefined)),
    );
  });

  it('names a field of another method in base, an unknown or unused perMethod entry, and a columnLabels key no cell has', async () => {
    const axes = [{ grid: { method: ['padim', 'cfa'] } }];
    const foreign = await sweepFile('demo', { ...valid, axes });
    await expect(loadSweep(foreign)).rejects.toThrow(
      /'training' belongs to method cfa, fyd and crad, not padim\n {2}→ at base\.training/,
    );
    const own = await sweepFile('demo', {
      ...valid,
      base: {},
      perMethod: { padim: { training: { epochs: 1 } } },
      axes,
    });
    await expect(loadSweep(own)).rejects.toThrow(/→ at perMethod\.padim\.training/);
    const unknown = await sweepFile('demo', { ...valid, perMethod: { padimm: {} } });
    await expect(loadSweep(unknown)).rejects.toThrow(/unknown method 'padimm'.*\n {2}→ at perMethod\.padimm/);
    const unused = await sweepFile('demo', { ...valid, perMethod: { padim: {} } });
    await expect(loadSweep(unused)).rejects.toThrow(/no cell runs method padim \(cells run cfa\)/);
    const label = await sweepFile('demo', {
      ...valid,
      base: {},
      axes,
      report: { columns: ['method', 'ensemble'], columnLabels: { 'cfa · cfa+': 'CFA++' } },
    });
    await expect(loadSweep(label)).rejects.toThrow(
      /no cell has the column value 'cfa · cfa\+' \(the cells have 'padim · —', 'cfa · —'\)\n {2}→ at report\.columnLabels\["cfa · cfa\+"\]/,
    );
  });

  it('applies command-line overrides before validation', async () => {
    const file = await sweepFile('demo', valid);
    const { cells } = await loadSweep(file, { categories: ['nut'], epochs: 7, seeds: [3] });
    expect(cells.map((c) => [c.category, c.seed, configOf('cfa', c.config).training.epochs])).toEqual([['nut', 3, 7]]);
  });

  it('`--categories all` on the command line expands to every category, on every sweep, in a dry run', async () => {
    for (const name of ['ablation-loss', 'compression-sweep', 'backbone-sweep', 'rd-mvtec', 'main-table']) {
      const file = new URL(`../../../../experiments/${name}.yaml`, import.meta.url).pathname;
      const run = await runCfaInProcess(['sweep', file, '--categories', 'all', '--dry-run']);
      expect(run.code, `${name}: ${run.stderr}`).toBe(0);
      const categories = new Set(
        run.stdout.split('\n').flatMap((l) => /^ {2}[0-9a-f]{16} {2}(\S+)/.exec(l)?.[1] ?? []),
      );
      expect([...categories].sort(), name).toEqual(SYNTHETIC_CATEGORIES.map((c) => c.name).sort());
    }
  });

  it("the README's paper-setting command (MVTec root, all categories, weights) validates in a dry run", async () => {
    const root = await mkdtemp(join(tmpdir(), 'mvtec-root-'));
    for (const c of ['bottle', 'carpet', 'zipper']) await mkdir(join(root, c, 'train'), { recursive: true });
    const file = new URL('../../../../experiments/ablation-loss.yaml', import.meta.url).pathname;
    const args = ['--data-root', root, '--categories', 'all', '--epochs', '30', '--weights', 'resnet18-f37072fd.pth'];
    const run = await runCfaInProcess(['sweep', file, ...args, '--dry-run']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ablation-loss — .*\nsweep key [0-9a-f]{16}; 54 cells = 3 categories × 3 seeds/);
    expect(run.stdout).toMatch(/^epochs +30$/m);
    expect(run.stdout).toMatch(/ carpet backbone\.name=wide_resnet50_2 loss\.terms=att\+rep seed=0/);
  });

  it('every shipped sweep file is valid', async () => {
    const dir = new URL('../../../../experiments/', import.meta.url).pathname;
    const names = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
    expect(names).toEqual(
      expect.arrayContaining([
        'ablation-loss',
        'compression-sweep',
        'backbone-sweep',
        'rd-mvtec',
        'main-table',
        'crad',
        'crad-full',
      ]),
    );
    for (const name of names) {
      const { cells, sweep } = await loadSweep(join(dir, `${name}.yaml`));
      expect(cells.length, name).toBeGreaterThan(0);
      expect(sweep.reproduces, name).toMatch(/^Tables? \d|^embedded default: /);
      // the paper's numbers sit beside a row and a column that the sweep runs
      const values = (axis?: TableAxis, labels: Record<string, string> = {}) =>
        new Set(cells.map((c) => tableAxisValue(c.assignments, axis)).map((v) => labels[v] ?? v));
      const rows = values(sweep.report.rows),
        columns = values(sweep.report.columns, sweep.report.columnLabels);
      for (const [row, byColumn] of Object.entries(sweep.report.paper)) {
        expect([...rows], `${name}: paper row '${row}'`).toContain(row);
        for (const column of Object.keys(byColumn))
          expect([...columns], `${name}: paper column '${column}'`).toContain(column);
      }
    }
  });

  it("CFA++ sweeps: the paper's CFA++ numbers sit beside cfa++ cells; a resize view with cfa++ is reported at its axis", async () => {
    const load = async (name: string) =>
      loadSweep(new URL(`../../../../experiments/${name}.yaml`, import.meta.url).pathname);
    const rd = await load('rd-mvtec');
    // CFA++ on the standard view beside RD-MVTec: the unaligned-data penalty reads across a row
    expect(new Set(rd.cells.map((c) => `${c.config.view.kind} ${c.config.ensemble}`))).toEqual(
      new Set(['center-crop cfa++', 'rd-mvtec cfa++']),
    );
    // the paper's PRO column is the reference code's pro_auc_pxl: our P-PRO (ref)
    expect(rd.sweep.report.paper.resnet18['rd-mvtec']).toEqual({ imageAuroc: 96.5, pixelProReference: 81.8 });
    const main = await load('main-table');
    expect(main.sweep.report.paper['-']).toEqual({
      none: { imageAuroc: 99.3, pixelAuroc: 98.2 },
      'cfa++': { imageAuroc: 99.5, pixelAuroc: 98.5 },
    });
    expect((await load('backbone-sweep')).cells.every((c) => c.config.ensemble === 'cfa++')).toBe(true);
    const file = await sweepFile('demo', {
      ...valid,
      axes: [{ grid: { 'view.kind': ['center-crop', 'resize'], ensemble: ['cfa++'] } }],
    });
    const error = await loadSweep(file).catch((e: unknown) => e);
    expect((error as SweepError).problems.map((p) => p.path)).toEqual(['axes[0].grid["ensemble"][0]']);
  });
});

describe('cellKey', () => {
  const config = (cfa: object) => RunConfigSchema.parse({ dataset: { category: 'weave' }, cfa });

  it('leaves calibration out while holdout is 0 (cells logged before it existed keep their keys), keys it otherwise', () => {
    const none = cellKey(config({ calibration: { holdout: 0 } }));
    // the default config's key, pinned: a change of the key orphans every logged cell, so it must
    // be deliberate (the reference-protocol defaults of issue #15 changed it from 607ce47e04c4a433)
    expect(none).toBe('ba13c5e1a70678a4');
    expect(cellKey(config({ calibration: { holdout: 0, pixelFpr: 0.05 } }))).toBe(none);
    const held = cellKey(config({ calibration: { holdout: 0.1 } }));
    expect(held).not.toBe(none);
    expect(cellKey(config({ calibration: { holdout: 0.1, pixelFpr: 0.05 } }))).not.toBe(held);
  });

  it('a sweep file’s model outputs reach every cell and leave the keys alone', async () => {
    const plain = await loadSweep(await sweepFile('demo', valid));
    const lean = await loadSweep(await sweepFile('demo', { ...valid, model: { mlflow: false } }));
    expect(plain.cells[0].config.model).toEqual({ bundle: true, mlflow: true });
    expect(lean.cells.every((c) => c.config.model.mlflow === false && c.config.model.bundle)).toBe(true);
    expect(lean.cells.map((c) => c.key)).toEqual(plain.cells.map((c) => c.key));
    const overridden = await loadSweep(await sweepFile('demo', valid), { model: modelOutputs('bundle') });
    expect(overridden.cells[0].config.model).toEqual({ bundle: true, mlflow: false });
    expect(modelOutputs('none')).toEqual({ bundle: false, mlflow: false });
    expect(modelOutputs('mlflow,bundle')).toEqual({ bundle: true, mlflow: true });
    expect(() => modelOutputs('onnx')).toThrow(/--model-outputs: expected .* got 'onnx'/);
  });
});
