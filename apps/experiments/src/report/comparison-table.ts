/**
 * The comparison table of a sweep, laid out like the paper table it reproduces: one block of rows
 * per row-axis value (textures / objects / all, means over categories and seeds), for each
 * column-axis value our numbers with the paper's beside them. Built with arquero over the child
 * runs' metrics; printed as markdown and logged as a parent-run artifact.
 *
 * @example
 * ```ts
 * const table = comparisonTable({ rows: cellRows, report: sweep.report });
 * console.log(table.markdown);
 * ```
 */
import * as aq from 'arquero';
import type { MetricName, Sweep } from '../sweep/sweep-schema';
import { formatTable } from './text-table';

export interface CellRow {
  category: string;
  kind: 'texture' | 'object' | 'unknown';
  seed: number;
  /** Axis assignments (config path → value). */
  assignments: Record<string, string | number | boolean>;
  status: 'FINISHED' | 'FAILED' | 'MISSING';
  metrics: Partial<Record<MetricName, number>>;
  /** How the cell's numbers were chosen: 'best-on-test' ones are marked in the table. */
  selection?: 'last' | 'best-on-test';
}

/** The mark of numbers chosen on the test set, and its legend line. */
export const BEST_ON_TEST_MARK = '†';
export const BEST_ON_TEST_LEGEND = `${BEST_ON_TEST_MARK} best epoch on the test set, per metric (the reference code's protocol: chosen with test labels)`;

export const METRIC_LABELS: Record<MetricName, string> = {
  imageAuroc: 'I-AUROC',
  pixelAuroc: 'P-AUROC',
  pixelAupro: 'P-AUPRO',
  pixelProReference: 'P-PRO (ref)',
  imageF1Max: 'I-F1max',
  pixelF1Max: 'P-F1max',
  throughput: 'img/s',
  trainSeconds: 'train s',
};

const PERCENT: MetricName[] = [
  'imageAuroc',
  'pixelAuroc',
  'pixelAupro',
  'pixelProReference',
  'imageF1Max',
  'pixelF1Max',
];

/** MLflow metric keys → report metric names. */
export const MLFLOW_METRIC_OF: Record<MetricName, string> = {
  imageAuroc: 'image_auroc',
  pixelAuroc: 'pixel_auroc',
  pixelAupro: 'pixel_aupro',
  pixelProReference: 'pixel_pro_reference',
  imageF1Max: 'image_f1_max',
  pixelF1Max: 'pixel_f1_max',
  throughput: 'throughput_img_s',
  trainSeconds: 'train_seconds',
};

function show(metric: MetricName, value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return PERCENT.includes(metric) ? (100 * value).toFixed(1) : value.toFixed(1);
}

export interface ComparisonTable {
  markdown: string;
  text: string;
  /** One object per output row, for JSON/CSV artifacts. */
  records: Record<string, string | number>[];
  failed: number;
  missing: number;
}

export function comparisonTable({ rows, report }: { rows: CellRow[]; report: Sweep['report'] }): ComparisonTable {
  const rowAxis = report.rows;
  const colAxis = report.columns;
  const value = (r: CellRow, axis?: string) => (axis ? String(r.assignments[axis] ?? '—') : '-');
  const flat = rows
    .filter((r) => r.status === 'FINISHED')
    .flatMap((r) =>
      (
        ['all', r.kind === 'texture' ? 'textures' : r.kind === 'object' ? 'objects' : undefined].filter(
          Boolean,
        ) as string[]
      ).map((group) => ({
        row: value(r, rowAxis),
        col: value(r, colAxis),
        group,
        bestOnTest: r.selection === 'best-on-test' ? 1 : 0,
        ...Object.fromEntries(report.metrics.map((m) => [m, r.metrics[m] ?? NaN])),
      })),
    );
  const means = flat.length
    ? (aq
        .from(flat)
        .groupby('row', 'col', 'group')
        .rollup({
          ...Object.fromEntries(report.metrics.map((m) => [m, aq.op.mean(m)])),
          bestOnTest: aq.op.max('bestOnTest'),
        })
        .objects() as Record<string, number | string>[])
    : [];
  const lookup = new Map(means.map((m) => [`${m.row}|${m.col}|${m.group}`, m]));
  const order = (axis: string | undefined) => [...new Set(rows.map((r) => value(r, axis)))];
  const rowValues = order(rowAxis);
  const colValues = order(colAxis);
  const groups = ['textures', 'objects', 'all'].filter((g) => g === 'all' || flat.some((f) => f.group === g));
  const headers = [rowAxis ?? 'cells', 'group'];
  for (const c of colValues) {
    for (const m of report.metrics) {
      const label = `${colAxis ? `${c} ` : ''}${METRIC_LABELS[m]}`;
      headers.push(label);
      if (Object.keys(report.paper).length) headers.push(`${label} paper`);
    }
  }
  const body: string[][] = [];
  const records: Record<string, string | number>[] = [];
  for (const r of rowValues) {
    for (const g of groups) {
      const line = [r, g];
      const record: Record<string, string | number> = { [rowAxis ?? 'cells']: r, group: g };
      for (const c of colValues) {
        const cell = lookup.get(`${r}|${c}|${g}`);
        for (const m of report.metrics) {
          const ours = cell ? Number(cell[m]) : undefined;
          const marked = cell && Number(cell.bestOnTest) === 1 ? BEST_ON_TEST_MARK : '';
          line.push(`${show(m, ours)}${marked}`);
          record[`${c}/${m}`] = ours ?? NaN;
          if (Object.keys(report.paper).length) {
            const paper = g === 'all' ? report.paper[r]?.[c]?.[m] : undefined;
            line.push(paper === undefined ? '' : String(paper));
            if (paper !== undefined) record[`${c}/${m}/paper`] = paper;
          }
        }
      }
      body.push(line);
      records.push(record);
    }
  }
  const legend = flat.some((f) => f.bestOnTest) ? `\n${BEST_ON_TEST_LEGEND}\n` : '';
  return {
    markdown: `${formatTable(headers, body, { markdown: true })}${legend}`,
    text: `${formatTable(headers, body)}${legend}`,
    records,
    failed: rows.filter((r) => r.status === 'FAILED').length,
    missing: rows.filter((r) => r.status === 'MISSING').length,
  };
}
