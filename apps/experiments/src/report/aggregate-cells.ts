/**
 * A sweep's cell results → mean ± std per table cell, with arquero. The spread is over seeds:
 * for each seed, the mean over the categories a row covers (one category, textures, objects, or
 * all); then the mean and the sample standard deviation of those per-seed means. So "± std" says
 * how much the table cell moves when the run is repeated with another seed (backbone init,
 * descriptor init, k-means, batch order), not how much categories differ.
 *
 * @example
 * ```ts
 * const stats = aggregateCells({ rows, metrics: ['imageAuroc'], rowAxis: 'backbone.name', colAxis: 'loss.terms', perCategory: false });
 * stats[0]; // { row: 'resnet18', col: 'none', group: 'all', metric: 'imageAuroc', mean: 0.71, std: 0.04, seeds: 3, categories: 2 }
 * ```
 */
import * as aq from 'arquero';
import type { MetricName } from './metric-columns';
import type { TableAxis } from '../sweep/sweep-schema';
import { tableAxisValue } from './axis-labels';

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

export interface CellStats {
  /** Row-axis value ('-' without a row axis). */
  row: string;
  /** Column-axis value ('-' without a column axis). */
  col: string;
  /** A category name, 'textures', 'objects' or 'all'. */
  group: string;
  metric: MetricName;
  mean: number;
  /** Sample standard deviation over seeds; NaN with one seed. */
  std: number;
  seeds: number;
  /** Categories averaged per seed (the most any seed had). */
  categories: number;
}

export const GROUPS = ['textures', 'objects', 'all'] as const;

/** The value of an axis in a cell, as the table shows it ('-' when there is no such axis). */
export function axisValue(row: CellRow, axis: TableAxis | undefined): string {
  return tableAxisValue(row.assignments, axis);
}

/** The groups a cell counts in: 'all', its kind's, and its own category when rows are per category. */
export function groupsOf(row: CellRow, perCategory: boolean): string[] {
  const groups = ['all'];
  if (row.kind === 'texture') groups.push('textures');
  if (row.kind === 'object') groups.push('objects');
  if (perCategory) groups.push(row.category);
  return groups;
}

export interface AggregateCellsParams {
  rows: CellRow[];
  metrics: MetricName[];
  rowAxis?: string;
  colAxis?: TableAxis;
  perCategory: boolean;
}

export function aggregateCells({ rows, metrics, rowAxis, colAxis, perCategory }: AggregateCellsParams): CellStats[] {
  const long = rows
    .filter((r) => r.status === 'FINISHED')
    .flatMap((r) =>
      groupsOf(r, perCategory).flatMap((group) =>
        metrics.flatMap((metric) => {
          const value = r.metrics[metric];
          return value !== undefined && Number.isFinite(value)
            ? [{ row: axisValue(r, rowAxis), col: axisValue(r, colAxis), group, metric, seed: r.seed, value }]
            : [];
        }),
      ),
    );
  if (long.length === 0) return [];
  const perSeed = aq
    .from(long)
    .groupby('row', 'col', 'group', 'metric', 'seed')
    .rollup({ value: aq.op.mean('value'), categories: aq.op.count() });
  return perSeed
    .groupby('row', 'col', 'group', 'metric')
    .rollup({
      mean: aq.op.mean('value'),
      std: aq.op.stdev('value'),
      seeds: aq.op.count(),
      categories: aq.op.max('categories'),
    })
    .objects()
    .map((o) => {
      const s = o as Omit<CellStats, 'std'> & { std?: number };
      return { ...s, std: s.std ?? NaN };
    });
}

/** Whether two cells' mean ± std ranges overlap (undefined when either has fewer than two seeds). */
export function rangesOverlap(a: CellStats | undefined, b: CellStats | undefined): boolean | undefined {
  if (!a || !b || a.seeds < 2 || b.seeds < 2 || !Number.isFinite(a.std) || !Number.isFinite(b.std)) return undefined;
  return a.mean - a.std <= b.mean + b.std && b.mean - b.std <= a.mean + a.std;
}
