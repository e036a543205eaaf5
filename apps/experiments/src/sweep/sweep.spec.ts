import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SweepError } from './expand-sweep';
import { loadSweep } from './load-sweep';

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
    expect(cells.every((c) => c.config.cfa.descriptor.gammaD === c.config.cfa.memoryBank.gammaC)).toBe(true);
    expect(new Set(cells.map((c) => c.key)).size).toBe(16);
    expect(cells[0].config.cfa.training.epochs).toBe(2);
    // keys are deterministic: what the numbers depend on, not the order of the file
    expect((await loadSweep(file)).cells.map((c) => c.key)).toEqual(cells.map((c) => c.key));
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

  it('applies command-line overrides before validation', async () => {
    const file = await sweepFile('demo', valid);
    const { cells } = await loadSweep(file, { categories: ['nut'], epochs: 7, seeds: [3] });
    expect(cells.map((c) => [c.category, c.seed, c.config.cfa.training.epochs])).toEqual([['nut', 3, 7]]);
  });

  it('every shipped sweep file is valid', async () => {
    const dir = new URL('../../../../experiments/', import.meta.url).pathname;
    const names = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
    expect(names).toEqual(
      expect.arrayContaining(['ablation-loss', 'compression-sweep', 'backbone-sweep', 'rd-mvtec', 'main-table']),
    );
    for (const name of names) {
      const { cells, sweep } = await loadSweep(join(dir, `${name}.yaml`));
      expect(cells.length, name).toBeGreaterThan(0);
      expect(sweep.reproduces, name).toMatch(/^Tables? \d|^embedded default: /);
      // the paper's numbers sit beside a row and a column that the sweep runs
      const values = (axis?: string) => new Set(cells.map((c) => (axis ? String(c.assignments[axis]) : '-')));
      const rows = values(sweep.report.rows),
        columns = values(sweep.report.columns);
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
    expect(new Set(rd.cells.map((c) => `${c.config.cfa.view.kind} ${c.config.cfa.ensemble}`))).toEqual(
      new Set(['center-crop cfa++', 'rd-mvtec cfa++']),
    );
    expect(rd.sweep.report.paper.resnet18['rd-mvtec']).toEqual({ imageAuroc: 96.5, pixelAupro: 81.8 });
    const main = await load('main-table');
    expect(main.sweep.report.paper['-']).toEqual({
      none: { imageAuroc: 99.3, pixelAuroc: 98.2 },
      'cfa++': { imageAuroc: 99.5, pixelAuroc: 98.5 },
    });
    expect((await load('backbone-sweep')).cells.every((c) => c.config.cfa.ensemble === 'cfa++')).toBe(true);
    const file = await sweepFile('demo', {
      ...valid,
      axes: [{ grid: { 'view.kind': ['center-crop', 'resize'], ensemble: ['cfa++'] } }],
    });
    const error = await loadSweep(file).catch((e: unknown) => e);
    expect((error as SweepError).problems.map((p) => p.path)).toEqual(['axes[0].grid["ensemble"][0]']);
  });
});
