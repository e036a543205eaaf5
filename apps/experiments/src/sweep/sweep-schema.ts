/**
 * Declarative sweep files (YAML, so each can say in a comment which paper table it reproduces).
 * A sweep is a base config, axes over config fields (a grid product, or `zip` for paired axes such
 * as γd = γc), the categories and the seeds, plus how its comparison table is laid out with the
 * paper's numbers beside ours. Strict objects: a misspelt key fails with its path.
 *
 * @example
 * ```yaml
 * name: compression-sweep
 * base: { backbone: { name: wide_resnet50_2 } }
 * axes:
 *   - zip: { descriptor.gammaD: [1, 2, 4, 8], memoryBank.gammaC: [1, 2, 4, 8] }
 *   - cases: [{ method: cfa }, { method: crad, training.unified: true }]
 * categories: [weave, disc]
 * ```
 */
import { z } from 'zod';
import { ModelOutputSchema } from '../run/run-config';
import { METRIC_NAMES } from '../report/metric-columns';

const AxisValue = z.union([z.string(), z.number(), z.boolean()]);
type AxisValue = z.infer<typeof AxisValue>;
/** `config.path: [values…]`; at least one value per axis. */
const AxisMap = z.record(z.string().min(1), z.array(AxisValue).min(1, 'an axis needs at least one value'));

export const AxisSchema = z.union([
  z.strictObject({ grid: AxisMap.refine((m) => Object.keys(m).length > 0, 'a grid needs at least one field') }),
  z.strictObject({ zip: AxisMap.refine((m) => Object.keys(m).length > 0, 'a zip needs at least one field') }),
  /**
   * Explicit settings, one cell group each, for fields that exist in only some of them (a method's
   * own field beside another method): `[{ method: cfa }, { method: crad, training.unified: true }]`.
   */
  z.strictObject({
    cases: z
      .array(
        z
          .record(z.string().min(1), AxisValue)
          .refine((m) => Object.keys(m).length > 0, 'a case needs at least one field'),
      )
      .min(1, 'list at least one case'),
  }),
]);

/** An axis's kind and its fields with the values each takes (a `cases` field: its values over the cases). */
export function axisFields(axis: Axis): { kind: 'grid' | 'zip' | 'cases'; fields: Record<string, AxisValue[]> } {
  if ('grid' in axis) return { kind: 'grid', fields: axis.grid };
  if ('zip' in axis) return { kind: 'zip', fields: axis.zip };
  const fields: Record<string, AxisValue[]> = {};
  for (const c of axis.cases) for (const [k, v] of Object.entries(c)) (fields[k] ??= []).push(v);
  return { kind: 'cases', fields };
}

/** The metrics a table can show: the keys of `METRIC_COLUMNS` (one line there adds one). */
export const MetricNameSchema = z.enum(METRIC_NAMES);

/**
 * Config paths whose values make a table's rows or columns: one path (`loss.terms`), or several
 * whose values are labelled together (`[method, ensemble]`: PaDiM, PatchCore, CFA and CFA++ are
 * four combinations of two fields), their values joined by ' · ' (`cfa · cfa++`).
 */
export const TableAxisSchema = z.union([
  z.string().min(1),
  z.array(z.string().min(1)).min(2, 'list two paths or more, or give one path as a string'),
]);
export type TableAxis = z.infer<typeof TableAxisSchema>;

export const ReportSchema = z.strictObject({
  /** Config path whose values make the rows (e.g. `backbone.name`). */
  rows: z.string().optional(),
  /** Config path(s) whose values make the column groups (e.g. `loss.terms`, or `[method, ensemble]`). */
  columns: TableAxisSchema.optional(),
  /**
   * Header labels of column values (`"cfa · cfa++": CFA++`); a labelled column's paper numbers are
   * keyed by its label. Unlabelled values are shown by their own labels (`WRN50-2`), joined by ' · '.
   */
  columnLabels: z.record(z.string(), z.string().min(1)).default({}),
  metrics: z.array(MetricNameSchema).min(1).default(['imageAuroc', 'pixelAuroc']),
  /** One row per category before the textures / objects / all means (paper Table 4's layout). */
  perCategory: z.boolean().default(false),
  /**
   * What `≈` compares each cell with: the previous column (or row, without a column axis), or the
   * first one (a baseline, as γ = 1 in the compression sweep).
   */
  compare: z.enum(['previous', 'first']).default('previous'),
  /**
   * The paper's numbers: row value → column value → metric → number ("-" as the key when there is
   * no row/column axis).
   */
  paper: z.record(z.string(), z.record(z.string(), z.record(z.string(), z.number()))).default({}),
  /** The label of the paper's rows (FYD's table: "FYD reported"). */
  paperLabel: z.string().min(1).default('paper'),
  /** The legend line saying where the paper's numbers come from; default: the CFA paper's. */
  paperSource: z.string().min(1).optional(),
  /**
   * A title over our value columns, e.g. "re-implemented from the paper's description" for a
   * method built from a paper's text without its authors' code.
   */
  columnsTitle: z.string().min(1).optional(),
});

export const SweepSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lowercase letters, digits and dashes'),
  /** The paper table reproduced, e.g. "Table 5: loss ablation". */
  reproduces: z.string().min(1),
  description: z.string().optional(),
  /** A partial method config: `method` (default cfa) and its fields (defaults fill the rest). */
  base: z.record(z.string(), z.unknown()).default({}),
  /**
   * Fields for one method's cells only, over `base` and under the axes: with a `method` axis, the
   * fields that only some methods have (`cfa: { training: { epochs: 3 } }`).
   */
  perMethod: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  /** MVTec AD folder; absent = the embedded synthetic dataset. */
  dataRoot: z.string().optional(),
  /** Category names, or "all" for every category under the data root. */
  categories: z.union([z.literal('all'), z.array(z.string().min(1)).min(1, 'list at least one category')]),
  seeds: z.array(z.number().int().nonnegative()).min(1, 'list at least one seed').default([0]),
  axes: z.array(AxisSchema).default([]),
  /** Heatmap panels per cell. */
  heatmaps: z.number().int().nonnegative().default(4),
  /**
   * What each cell writes and logs of its trained model: the bundle (`model/`) and the MLflow Model
   * with the ONNX export (`mlflow-model/`, ≈ 135 MB for wide_resnet50_2); `{ mlflow: false }` saves that.
   */
  model: ModelOutputSchema.default(ModelOutputSchema.parse({})),
  report: ReportSchema.default(ReportSchema.parse({})),
});

export type SweepInput = z.input<typeof SweepSchema>;
export type Sweep = z.infer<typeof SweepSchema>;
export type Axis = z.infer<typeof AxisSchema>;
export type { MetricName } from '../report/metric-columns';
