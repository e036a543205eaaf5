/**
 * Per-category bar charts of a sweep, one per metric: a bar per category and compared value
 * (column axis, else row axis), with mean ± std over seeds as an error bar, one panel per row-axis
 * value when both axes are set — what the table's rows say, category by category.
 *
 * @example
 * ```ts
 * const stats = aggregateCells({ rows, metrics, rowAxis, colAxis, perCategory: true });
 * await writeChart('plots/imageAuroc-by-category.png', categoryBarsSpec({ stats, metric: 'imageAuroc', ... }));
 * ```
 */
import type { Axis, TableAxis } from '../sweep/sweep-schema';
import type { CellStats } from './aggregate-cells';
import { axisLabel, valueLabel } from './axis-labels';
import { METRIC_COLUMNS, type MetricName, metricValue } from './metric-columns';
import type { TopLevelSpec } from './render-chart';

export interface CategoryBarsParams {
  /** Per-category stats (`aggregateCells` with perCategory); other groups are ignored. */
  stats: CellStats[];
  metric: MetricName;
  categories: string[];
  rowAxis?: string;
  colAxis?: TableAxis;
  /** `report.columnLabels`. */
  columnLabels?: Record<string, string>;
  axes?: Axis[];
  title: string;
  subtitle?: string[];
}

export function categoryBarsSpec(p: CategoryBarsParams): TopLevelSpec {
  const { metric, categories, rowAxis, colAxis, axes = [] } = p;
  const series = colAxis ?? rowAxis;
  const panels = colAxis && rowAxis ? rowAxis : undefined;
  const values = p.stats
    .filter((s) => s.metric === metric && categories.includes(s.group))
    .map((s) => {
      const mean = metricValue(metric, s.mean);
      const std = Number.isFinite(s.std) ? metricValue(metric, s.std) : 0;
      return {
        category: s.group,
        series: colAxis ? valueLabel(colAxis, s.col, p.columnLabels) : valueLabel(rowAxis, s.row),
        panel: panels ? valueLabel(rowAxis, s.row) : '',
        mean,
        lo: mean - std,
        hi: mean + std,
      };
    });
  const width = Math.max(240, 14 * categories.length * Math.max(2, new Set(values.map((v) => v.series)).size));
  const column = METRIC_COLUMNS[metric];
  const unit = column.unit === '%' ? ' (%)' : column.unit === 'img/s' ? '' : ` (${column.unit})`;
  const layer = {
    layer: [
      {
        mark: { type: 'bar' as const },
        encoding: {
          x: { field: 'category', type: 'nominal' as const, sort: categories, title: null, axis: { labelAngle: -40 } },
          xOffset: { field: 'series', type: 'nominal' as const, sort: null },
          y: { field: 'mean', type: 'quantitative' as const, title: `${column.label}${unit}` },
          color: {
            field: 'series',
            type: 'nominal' as const,
            sort: null,
            title: series ? axisLabel(series, axes) : null,
          },
        },
      },
      {
        mark: { type: 'rule' as const, color: '#222' },
        encoding: {
          x: { field: 'category', type: 'nominal' as const, sort: categories },
          xOffset: { field: 'series', type: 'nominal' as const, sort: null },
          y: { field: 'lo', type: 'quantitative' as const },
          y2: { field: 'hi' },
        },
      },
    ],
  };
  const title = { text: p.title, subtitle: p.subtitle ?? ['bars: mean over seeds; lines: ± one standard deviation'] };
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json' as const, title, data: { values } };
  if (!panels) return { ...base, width, height: 220, ...layer };
  return {
    ...base,
    facet: { row: { field: 'panel', type: 'nominal', title: axisLabel(panels, axes), sort: null } },
    spec: { width, height: 180, ...layer },
  };
}
