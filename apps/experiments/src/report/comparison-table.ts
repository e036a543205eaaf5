/**
 * The comparison table of a sweep, laid out like the paper table it reproduces: one block of rows
 * per row-axis value — one row per category when `perCategory` (paper Table 4), then textures /
 * objects / all, then the paper's numbers — and one column per (column-axis value, metric). Each
 * cell is mean ± std over seeds (`aggregate-cells.ts`); `≈` marks a cell whose mean ± std range
 * overlaps the one it is compared with (the previous or first column, or row when there is no
 * column axis): a difference within seed noise. The text fits a 120-column terminal (split into
 * blocks when wider); markdown and CSV go to the run folder and MLflow. `†` marks cells whose
 * numbers were chosen on the test set (`evaluation.selection: best-on-test`, the reference code's
 * protocol), so the published protocol and the honest one can stand side by side.
 *
 * @example
 * ```ts
 * const table = comparisonTable({ rows: cellRows, report: sweep.report, axes: sweep.axes });
 * console.log(`${table.text}\n\n${table.legend.join('\n')}`);
 * ```
 */
import * as aq from 'arquero';
import type { Axis, Sweep, TableAxis } from '../sweep/sweep-schema';
import { aggregateCells, axisValue, type CellRow, type CellStats, GROUPS, rangesOverlap } from './aggregate-cells';
import { AXIS_VALUE_JOINER, axisLabel, valueLabel } from './axis-labels';
import { formatMetric, METRIC_COLUMNS, MLFLOW_METRIC_OF, type MetricName, metricValue } from './metric-columns';
import { formatLayout, formatLayoutMarkdown, type TableLayout } from './text-table';

export type { CellRow } from './aggregate-cells';
export { MLFLOW_METRIC_OF };

/** One table cell in tidy form (the CSV's and JSON's rows); numbers in the table's units. */
export interface ComparisonRecord {
  rowAxis: string;
  row: string;
  /** The column axis' path (several joined by ' · '). */
  colAxis: string;
  col: string;
  /** The column's header label. */
  colLabel: string;
  group: string;
  metric: MetricName;
  unit: string;
  mean: number | null;
  std: number | null;
  seeds: number;
  categories: number;
  /** The column (or row) value this cell is compared with. */
  comparedTo: string | null;
  /** Whether the two mean ± std ranges overlap; null without two seeds on both sides. */
  overlaps: boolean | null;
  paper: number | null;
  /** Some run of this cell reported its best epoch on the test set (`selection: best-on-test`). */
  bestOnTest: boolean;
}

export interface ComparisonTable {
  /** For the console: at most 120 columns wide. */
  text: string;
  markdown: string;
  /** Units, what ± and ≈ mean, where the paper's numbers come from. */
  legend: string[];
  /** Tidy CSV of `records`. */
  csv: string;
  /** One line per cell run: category, seed, axis values, status, metrics (table units). */
  cellsCsv: string;
  records: ComparisonRecord[];
  /** The layout (headers and body), for callers that render it themselves. */
  layout: TableLayout;
  failed: number;
  missing: number;
}

export interface ComparisonTableParams {
  rows: CellRow[];
  report: Sweep['report'];
  /** The sweep's axes: zipped axes are named together (`γd=γc`). */
  axes?: Axis[];
  /** Terminal width for `text`; default 120. */
  maxWidth?: number;
}

const MARK = '≈';

/** The mark of numbers chosen on the test set, and its legend line. */
export const BEST_ON_TEST_MARK = '†';
export const BEST_ON_TEST_LEGEND = `${BEST_ON_TEST_MARK}: best epoch on the test set, per metric (the reference code's protocol: chosen with test labels)`;

function cellText(stats: CellStats | undefined, overlaps: boolean | undefined, bestOnTest: boolean): string {
  if (!stats) return '— ';
  const mean = formatMetric(stats.metric, stats.mean);
  const spread = stats.seeds > 1 && Number.isFinite(stats.std) ? `±${formatMetric(stats.metric, stats.std)}` : '';
  return `${mean}${spread}${bestOnTest ? BEST_ON_TEST_MARK : ''}${overlaps ? MARK : ' '}`;
}

export function comparisonTable({ rows, report, axes = [], maxWidth = 120 }: ComparisonTableParams): ComparisonTable {
  const rowAxis = report.rows;
  const colAxis = report.columns;
  const metrics = report.metrics;
  const stats = aggregateCells({ rows, metrics, rowAxis, colAxis, perCategory: report.perCategory });
  const lookup = new Map(stats.map((s) => [`${s.row}|${s.col}|${s.group}|${s.metric}`, s]));
  const selectedOnTest = new Set(
    rows
      .filter((r) => r.status === 'FINISHED' && r.selection === 'best-on-test')
      .map((r) => `${axisValue(r, rowAxis)}|${axisValue(r, colAxis)}`),
  );
  const order = (axis: TableAxis | undefined) => [...new Set(rows.map((r) => axisValue(r, axis)))];
  const rowValues = order(rowAxis);
  const colValues = order(colAxis);
  const kinds = new Set(rows.map((r) => r.kind));
  const categories = report.perCategory ? [...new Set(rows.map((r) => r.category))] : [];
  const groups = [
    ...categories,
    ...GROUPS.filter((g) => g === 'all' || kinds.has(g === 'textures' ? 'texture' : 'object')),
  ];
  const along = colAxis && colValues.length > 1 ? 'column' : rowAxis && rowValues.length > 1 ? 'row' : undefined;
  const colLabel = (c: string) => (colAxis ? valueLabel(colAxis, c, report.columnLabels) : c);
  // a labelled column's paper numbers are keyed by its label (`CFA++`), others by their value
  const paperKey = (c: string) => report.columnLabels[c] ?? c;
  const compared = (values: string[], value: string) => {
    const i = values.indexOf(value);
    return i > 0 ? values[report.compare === 'first' ? 0 : i - 1] : undefined;
  };

  const records: ComparisonRecord[] = [];
  const statsRecord = (r: string, c: string, g: string, m: MetricName) => {
    const s = lookup.get(`${r}|${c}|${g}|${m}`);
    const other = along === 'column' ? compared(colValues, c) : along === 'row' ? compared(rowValues, r) : undefined;
    const ref =
      other === undefined
        ? undefined
        : lookup.get(along === 'column' ? `${r}|${other}|${g}|${m}` : `${other}|${c}|${g}|${m}`);
    const overlaps = rangesOverlap(s, ref);
    const paper = g === 'all' ? report.paper[r]?.[paperKey(c)]?.[m] : undefined;
    const bestOnTest = s !== undefined && selectedOnTest.has(`${r}|${c}`);
    records.push({
      rowAxis: rowAxis ?? '',
      row: r,
      colAxis: colAxis === undefined ? '' : typeof colAxis === 'string' ? colAxis : colAxis.join(AXIS_VALUE_JOINER),
      col: c,
      colLabel: colLabel(c),
      group: g,
      metric: m,
      unit: METRIC_COLUMNS[m].unit,
      mean: s ? metricValue(m, s.mean) : null,
      std: s && Number.isFinite(s.std) ? metricValue(m, s.std) : null,
      seeds: s?.seeds ?? 0,
      categories: s?.categories ?? 0,
      comparedTo: other ?? null,
      overlaps: overlaps ?? null,
      paper: paper ?? null,
      bestOnTest,
    });
    return cellText(s, overlaps, bestOnTest);
  };

  const hasPaper = Object.keys(report.paper).length > 0;
  // without a row axis there is no row-label column
  const labels = (rowLabel: string, group: string) => (rowAxis ? [rowLabel, group] : [group]);
  const headers: string[][] = labels(rowAxis ? axisLabel(rowAxis, axes) : '', 'categories').map((h) => [h]);
  const markdownHeaders = headers.map((h) => h[0]);
  const groupStarts: number[] = [];
  for (const c of colValues)
    metrics.forEach((m, k) => {
      if (k === 0) groupStarts.push(headers.length);
      const label = METRIC_COLUMNS[m].label;
      headers.push(colAxis ? [k === 0 ? colLabel(c) : '', label] : [label]);
      markdownHeaders.push(colAxis ? `${colLabel(c)} ${label}` : label);
    });
  const body: string[][] = [];
  for (const r of rowValues) {
    groups.forEach((g, k) =>
      body.push([
        ...labels(k === 0 ? valueLabel(rowAxis, r) : '', g),
        ...colValues.flatMap((c) => metrics.map((m) => statsRecord(r, c, g, m))),
      ]),
    );
    if (hasPaper && report.paper[r])
      body.push([
        ...labels('', report.paperLabel),
        ...colValues.flatMap((c) =>
          metrics.map((m) => {
            const p = report.paper[r]?.[paperKey(c)]?.[m];
            // as the paper prints it, with at least one decimal like our cells
            return p === undefined ? '' : `${Number.isInteger(p) ? p.toFixed(1) : p} `;
          }),
        ),
      ]);
  }
  const layout: TableLayout = {
    headers,
    body,
    labelColumns: rowAxis ? 2 : 1,
    groupStarts,
    markdownHeaders,
    ...(report.columnsTitle ? { title: report.columnsTitle } : {}),
  };
  const seeds = [...new Set(rows.map((r) => r.seed))].sort((a, b) => a - b);
  const legend = tableLegend({
    metrics,
    seeds,
    along,
    compare: report.compare,
    hasPaper,
    paperLabel: report.paperLabel,
    paperSource: report.paperSource,
    rowAxis,
    colAxis,
    axes,
  });
  if (selectedOnTest.size) legend.push(BEST_ON_TEST_LEGEND);
  const cellsCsv = rows.length
    ? aq
        .from(
          rows.map((r) => ({
            category: r.category,
            kind: r.kind,
            seed: r.seed,
            ...r.assignments,
            status: r.status,
            ...Object.fromEntries(
              metrics.map((m) => [m, r.metrics[m] === undefined ? null : metricValue(m, r.metrics[m]!)]),
            ),
          })),
        )
        .toCSV()
    : '';
  return {
    text: formatLayout(layout, maxWidth),
    markdown: formatLayoutMarkdown(layout),
    legend,
    csv: records.length ? aq.from(records).toCSV() : '',
    cellsCsv,
    records,
    layout,
    failed: rows.filter((r) => r.status === 'FAILED').length,
    missing: rows.filter((r) => r.status === 'MISSING').length,
  };
}

function tableLegend(o: {
  metrics: MetricName[];
  seeds: number[];
  along: 'column' | 'row' | undefined;
  compare: 'previous' | 'first';
  hasPaper: boolean;
  paperLabel: string;
  paperSource?: string;
  rowAxis?: string;
  colAxis?: Sweep['report']['columns'];
  axes: Axis[];
}): string[] {
  const percent = o.metrics.filter((m) => METRIC_COLUMNS[m].unit === '%');
  const other = o.metrics.filter((m) => METRIC_COLUMNS[m].unit !== '%');
  const lines = [
    o.seeds.length > 1
      ? `mean ± std over ${o.seeds.length} seeds (${o.seeds.join(', ')}): per seed the mean over the row's categories, then the mean and sample standard deviation of those`
      : `one seed (${o.seeds.join(', ') || 'none'}): no spread; run more seeds (--seeds 0,1,2) for mean ± std`,
  ];
  if (percent.length)
    lines.push(
      `${percent.map((m) => METRIC_COLUMNS[m].label).join(', ')}: % (${percent.map((m) => METRIC_COLUMNS[m].meaning).join('; ')})`,
    );
  for (const m of other) lines.push(`${METRIC_COLUMNS[m].label}: ${METRIC_COLUMNS[m].meaning}`);
  if (o.along && o.seeds.length > 1) {
    const axis = o.along === 'column' ? o.colAxis! : o.rowAxis!;
    lines.push(
      `${MARK}: this cell's mean ± std range overlaps the ${o.compare === 'first' ? 'first' : 'previous'} ${axisLabel(axis, o.axes)} ${o.along}'s — the difference is within seed noise`,
    );
  }
  lines.push('—: no finished run for this cell');
  if (o.hasPaper)
    lines.push(
      `${o.paperLabel}: ${o.paperSource ?? 'Lee et al. 2022 (ImageNet weights, MVTec AD)'}; ours without --weights use a seeded random-init backbone on synthetic data, so compare directions, not values`,
    );
  return lines;
}
