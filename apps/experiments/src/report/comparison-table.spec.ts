import { describe, expect, it } from 'vitest';
import { type CellRow, comparisonTable } from './comparison-table';

const row = (
  category: string,
  kind: CellRow['kind'],
  terms: string,
  imageAuroc: number,
  status: CellRow['status'] = 'FINISHED',
): CellRow => ({
  category,
  kind,
  seed: 0,
  assignments: { 'backbone.name': 'resnet18', 'loss.terms': terms },
  status,
  metrics: { imageAuroc, pixelAuroc: imageAuroc / 2 },
});

describe('comparisonTable', () => {
  it('means over categories per group (textures / objects / all), paper numbers beside "all"', () => {
    const rows = [
      row('weave', 'texture', 'att', 0.9),
      row('marble', 'texture', 'att', 0.7),
      row('disc', 'object', 'att', 0.5),
      row('nut', 'object', 'att', 0.1, 'FAILED'),
    ];
    const table = comparisonTable({
      rows,
      report: {
        rows: 'backbone.name',
        columns: 'loss.terms',
        metrics: ['imageAuroc'],
        paper: { resnet18: { att: { imageAuroc: 97.8 } } },
      },
    });
    expect(table.records).toEqual([
      { 'backbone.name': 'resnet18', group: 'textures', 'att/imageAuroc': expect.closeTo(0.8, 12) },
      { 'backbone.name': 'resnet18', group: 'objects', 'att/imageAuroc': 0.5 },
      {
        'backbone.name': 'resnet18',
        group: 'all',
        'att/imageAuroc': expect.closeTo(0.7, 12),
        'att/imageAuroc/paper': 97.8,
      },
    ]);
    expect(table.failed).toBe(1);
    expect(table.markdown).toContain('| att I-AUROC | att I-AUROC paper |');
    expect(table.markdown).toMatch(/\| resnet18 +\| all +\| +70\.0 \| +97\.8 \|/);
  });
});
