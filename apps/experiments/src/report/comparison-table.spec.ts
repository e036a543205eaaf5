import { describe, expect, it } from 'vitest';
import { ReportSchema } from '../sweep/sweep-schema';
import { comparisonTable, type CellRow } from './comparison-table';

const cell = (
  category: string,
  kind: CellRow['kind'],
  seed: number,
  terms: string,
  imageAuroc: number,
  status: CellRow['status'] = 'FINISHED',
): CellRow => ({
  category,
  kind,
  seed,
  assignments: { 'backbone.name': 'resnet18', 'loss.terms': terms },
  status,
  metrics: { imageAuroc, pixelAuroc: imageAuroc / 2 },
});

const report = (extra: object = {}) =>
  ReportSchema.parse({ rows: 'backbone.name', columns: 'loss.terms', metrics: ['imageAuroc'], ...extra });

describe('comparisonTable', () => {
  // per seed: 'all' = mean of the texture and the object; then mean ± sample std over the seeds
  //   none:  seed 0 (0.6 + 0.8)/2 = 0.7, seed 1 (0.5 + 0.7)/2 = 0.6, seed 2 (0.7 + 0.9)/2 = 0.8
  //          → mean 0.7, std 0.1
  //   att:   seeds 0.72, 0.62, 0.82 (each +0.02) → 0.72 ± 0.1: overlaps none's range
  //   att+rep: 0.95, 0.96, 0.97 → 0.96 ± 0.01: clear of att's
  const rows: CellRow[] = [];
  const add = (terms: string, perSeed: [number, number][]) =>
    perSeed.forEach(([t, o], seed) => {
      rows.push(cell('fleece', 'texture', seed, terms, t), cell('chip', 'object', seed, terms, o));
    });
  add('none', [
    [0.6, 0.8],
    [0.5, 0.7],
    [0.7, 0.9],
  ]);
  add('att', [
    [0.62, 0.82],
    [0.52, 0.72],
    [0.72, 0.92],
  ]);
  add('att+rep', [
    [0.95, 0.95],
    [0.96, 0.96],
    [0.97, 0.97],
  ]);

  it('each cell is the mean ± sample std over seeds of the per-seed mean over categories', () => {
    const table = comparisonTable({ rows, report: report() });
    const all = (col: string) => table.records.find((r) => r.group === 'all' && r.col === col)!;
    expect(all('none').mean).toBeCloseTo(70, 10);
    expect(all('none').std).toBeCloseTo(10, 10);
    expect(all('none')).toMatchObject({ seeds: 3, categories: 2, unit: '%' });
    // textures alone: 0.6, 0.5, 0.7 → 60 ± 10
    const textures = table.records.find((r) => r.group === 'textures' && r.col === 'none')!;
    expect([textures.mean, textures.std]).toEqual([expect.closeTo(60, 10), expect.closeTo(10, 10)]);
    expect(table.text).toMatch(/^ResNet-18 +textures +60\.0±10\.0 /m);
    expect(table.text).toMatch(/^ +all +70\.0±10\.0 +72\.0±10\.0≈ +96\.0±1\.0$/m);
  });

  it('≈ marks a cell whose range overlaps the previous column (or the first, with compare: first)', () => {
    const previous = comparisonTable({ rows, report: report() });
    const overlaps = (t: typeof previous, col: string) =>
      t.records.find((r) => r.group === 'all' && r.col === col)!.overlaps;
    expect([overlaps(previous, 'none'), overlaps(previous, 'att'), overlaps(previous, 'att+rep')]).toEqual([
      null,
      true,
      false,
    ]);
    expect(previous.records.find((r) => r.col === 'att+rep')!.comparedTo).toBe('att');
    const first = comparisonTable({ rows, report: report({ compare: 'first' }) });
    expect(first.records.find((r) => r.col === 'att+rep')!.comparedTo).toBe('none');
    expect(previous.legend.join('\n')).toMatch(/≈: this cell's mean ± std range overlaps the previous loss column's/);
    // one seed: no spread, no marker
    const single = comparisonTable({ rows: rows.filter((r) => r.seed === 0), report: report() });
    expect(single.records.every((r) => r.overlaps === null && r.std === null)).toBe(true);
    expect(single.text).not.toContain('±');
  });

  it('per-category rows (paper Table 4) come before textures / objects / all, the paper row after; failed cells count', () => {
    const withFailure = [...rows, cell('tablet', 'object', 0, 'none', 0.1, 'FAILED')];
    const table = comparisonTable({
      rows: withFailure,
      report: report({ perCategory: true, paper: { resnet18: { none: { imageAuroc: 83.7 } } } }),
    });
    const groups = table.layout.body.map((line) => line[1]);
    expect(groups).toEqual(['fleece', 'chip', 'tablet', 'textures', 'objects', 'all', 'paper']);
    expect(table.layout.body[2].slice(2)).toEqual(['— ', '— ', '— ']);
    expect(table.layout.body.at(-1)!.slice(2)).toEqual(['83.7 ', '', '']);
    expect(table.failed).toBe(1);
    expect(table.legend.join('\n')).toMatch(/paper: Lee et al\. 2022/);
  });

  it("a method re-implemented from a paper's text: a title over our columns, the paper's row and source named as given", () => {
    const table = comparisonTable({
      rows,
      report: report({
        paper: { resnet18: { 'att+rep': { imageAuroc: 97.7 } } },
        paperLabel: 'FYD reported',
        paperSource: 'Zheng et al. 2022 as benchmark listings give it',
        columnsTitle: "re-implemented from the paper's description",
      }),
    });
    const lines = table.text.split('\n');
    expect(lines[0]).toMatch(/^ +re-implemented from the paper's description$/);
    // the title sits over the value columns: it starts where the first one's rule does
    const rule = lines.find((l) => l.startsWith('─'))!;
    expect(lines[0].indexOf('re-implemented')).toBe(rule.split('  ').slice(0, 2).join('  ').length + 2);
    expect(table.layout.body.at(-1)![1]).toBe('FYD reported');
    expect(table.legend.join('\n')).toMatch(/^FYD reported: Zheng et al\. 2022 as benchmark listings give it; ours/m);
    expect(table.markdown.split('\n')[0]).toBe("*re-implemented from the paper's description*");
  });

  it('a table wider than 120 columns is split into blocks that repeat the label columns', () => {
    const many = rows.map((r) => ({
      ...r,
      metrics: { ...r.metrics, pixelAupro: 0.5, imageF1Max: 0.5, pixelF1Max: 0.5, throughput: 12.5 },
    }));
    const table = comparisonTable({
      rows: many,
      report: report({ metrics: ['imageAuroc', 'pixelAuroc', 'pixelAupro', 'imageF1Max', 'pixelF1Max', 'throughput'] }),
    });
    const lines = table.text.split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(120);
    const blocks = table.text.split('\n\n');
    expect(blocks.length).toBeGreaterThan(1);
    for (const block of blocks) expect(block).toMatch(/ResNet-18 +textures/);
    // every value column is somewhere: 3 loss values × 6 metrics
    const headerCells = blocks.flatMap((b) => b.split('\n')[1].trim().split(/ {2,}/).slice(1));
    expect(headerCells.filter((h) => /^(I|P)-|img\/s/.test(h))).toHaveLength(18);
    // the markdown is one table with one-line headers
    expect(table.markdown.split('\n')[0]).toContain('att+rep img/s');
    expect(table.legend.join('\n')).toMatch(/img\/s: test images per second/);
  });

  it('CSV: one tidy line per table cell and metric, and one line per cell run', () => {
    const table = comparisonTable({ rows, report: report({ metrics: ['imageAuroc', 'pixelAuroc'] }) });
    const [header, ...lines] = table.csv.trim().split('\n');
    expect(header).toBe(
      'rowAxis,row,colAxis,col,colLabel,group,metric,unit,mean,std,seeds,categories,comparedTo,overlaps,paper,bestOnTest',
    );
    expect(lines).toHaveLength(3 * 3 * 2); // 3 loss values × (textures, objects, all) × 2 metrics
    const cells = table.cellsCsv.trim().split('\n');
    expect(cells[0]).toBe('category,kind,seed,backbone.name,loss.terms,status,imageAuroc,pixelAuroc');
    expect(cells).toHaveLength(1 + rows.length);
    expect(cells[1]).toBe('fleece,texture,0,resnet18,none,FINISHED,60,30');
  });

  it('marks † the cells chosen on the test set (selection: best-on-test), only those, with a legend line', () => {
    const marked = rows.map((r) =>
      r.assignments['loss.terms'] === 'att'
        ? { ...r, selection: 'best-on-test' as const }
        : { ...r, selection: 'last' as const },
    );
    const table = comparisonTable({ rows: marked, report: report() });
    expect(table.records.filter((r) => r.bestOnTest).map((r) => r.col)).toEqual(['att', 'att', 'att']);
    expect(table.text).toMatch(/^ResNet-18 +textures +60\.0±10\.0 +62\.0±10\.0†≈/m);
    expect(table.text).not.toMatch(/96\.0±1\.0†/);
    expect(table.legend.join('\n')).toMatch(/†: best epoch on the test set/);
    expect(comparisonTable({ rows, report: report() }).legend.join('\n')).not.toMatch(/†/);
  });

  it('a column axis of two paths: one column per combination, headed by columnLabels, paper keyed by the label; ms/img and MB units', () => {
    const methodRows: CellRow[] = [];
    const combos: [string, string, number][] = [
      ['padim', 'none', 0.7],
      ['cfa', 'none', 0.8],
      ['cfa', 'cfa++', 0.85],
    ];
    for (const [method, ensemble, value] of combos)
      for (const seed of [0, 1])
        methodRows.push({
          category: 'fleece',
          kind: 'texture',
          seed,
          assignments: { method, ensemble },
          status: 'FINISHED',
          metrics: { imageAuroc: value + seed / 100, bankMegabytes: 125_440_000, scoreMsPerImage: 12.5 },
        });
    const table = comparisonTable({
      rows: methodRows,
      report: ReportSchema.parse({
        columns: ['method', 'ensemble'],
        columnLabels: { 'cfa · cfa++': 'CFA++' },
        metrics: ['imageAuroc', 'bankMegabytes', 'scoreMsPerImage'],
        paper: { '-': { 'CFA++': { imageAuroc: 99.5 }, 'padim · none': { imageAuroc: 95.3 } } },
      }),
    });
    const all = table.records.filter((r) => r.group === 'all' && r.metric === 'imageAuroc');
    expect(all.map((r) => [r.col, r.colLabel, r.colAxis])).toEqual([
      ['padim · none', 'PaDiM · none', 'method · ensemble'],
      ['cfa · none', 'CFA · none', 'method · ensemble'],
      ['cfa · cfa++', 'CFA++', 'method · ensemble'],
    ]);
    expect(all.map((r) => r.paper)).toEqual([95.3, null, 99.5]);
    const bank = table.records.find((r) => r.group === 'all' && r.metric === 'bankMegabytes')!;
    expect([bank.mean, bank.unit]).toEqual([expect.closeTo(125.44, 10), 'MB']);
    expect(table.markdown).toMatch(/CFA\+\+ I-AUROC/);
    expect(table.text).toMatch(/125\.4±0\.0/);
    expect(table.legend.join('\n')).toMatch(/bank MB: what scoring keeps per model/);
    expect(table.legend.join('\n')).toMatch(/score ms\/img: scoring time per test image/);
  });
});
