/**
 * What `sweep --dry-run` prints: what will run, before anything runs — the data, categories and
 * seeds, the resolved base config (every field, defaults filled, axis fields marked), the axes,
 * every cell with its key, and the table the sweep will print with the paper's numbers already in
 * place (our cells empty).
 *
 * @example
 * ```ts
 * process.stdout.write(sweepPlan({ loaded, sweepKey: key, kinds }));
 * ```
 */
import { MethodConfigSchema } from '../methods/registry';
import type { SweepCell } from '../sweep/expand-sweep';
import type { LoadedSweep } from '../sweep/load-sweep';
import { axisFields as fieldsOf } from '../sweep/sweep-schema';
import { DEFAULT_SYNTHETIC_ROOT } from '../run/run-config';
import { flattenConfig } from '../tracking/flatten';
import type { CellRow } from './aggregate-cells';
import { comparisonTable } from './comparison-table';

export interface SweepPlanParams {
  loaded: LoadedSweep;
  sweepKey: string;
  /** Each category's kind (texture / object), for the table's groups. */
  kinds: Map<string, CellRow['kind']>;
}

function axisFields(loaded: LoadedSweep): string[] {
  return loaded.sweep.axes.flatMap((a) => Object.keys(fieldsOf(a).fields));
}

export function sweepPlan({ loaded, sweepKey, kinds }: SweepPlanParams): string {
  const { sweep, cells } = loaded;
  const onAxis = new Set(axisFields(loaded));
  const base = MethodConfigSchema.parse(sweep.base);
  const categories = [...new Set(cells.map((c) => c.category))];
  const combos = new Set(cells.map((c) => JSON.stringify(c.assignments))).size;
  const out: string[] = [];
  out.push(`${sweep.name} — ${sweep.reproduces}`);
  out.push(
    `sweep key ${sweepKey}; ${cells.length} cells = ${categories.length} categories × ${sweep.seeds.length} seeds × ${combos} axis combination${combos === 1 ? '' : 's'}`,
    '',
  );
  const weights = onAxis.has('backbone.weights')
    ? 'per cell (axis)'
    : base.backbone.weights
      ? base.backbone.weights
      : `seeded random init (tagged weights=random; not ImageNet: numbers are not the paper's)`;
  out.push(
    `data        ${sweep.dataRoot ?? `embedded synthetic dataset in ${DEFAULT_SYNTHETIC_ROOT} (standard set; each category generated on first use)`}`,
    `categories  ${categories.map((c) => `${c} (${kinds.get(c) ?? 'unknown'})`).join(', ')}`,
    `seeds       ${sweep.seeds.join(', ')}  (a seed sets backbone init, descriptor init, k-means and batch order)`,
    `epochs      ${onAxis.has('training.epochs') ? 'axis' : 'training' in base ? base.training.epochs : `none (${base.method} does not train)`}`,
    `weights     ${weights}`,
    '',
    'resolved base config (every field; "← axis" = set per cell):',
  );
  const flat = flattenConfig(base);
  const groups = new Map<string, string[]>();
  for (const [key, value] of Object.entries(flat)) {
    if (key === 'seed') continue;
    const [head, ...rest] = key.split('.');
    const text = `${rest.length ? `${rest.join('.')}=` : ''}${value}${onAxis.has(key) ? ' ← axis' : ''}`;
    groups.set(head, [...(groups.get(head) ?? []), text]);
  }
  const width = Math.max(...[...groups.keys()].map((k) => k.length));
  for (const [head, fields] of groups) out.push(`  ${head.padEnd(width)}  ${fields.join(', ')}`);
  out.push('', 'axes:');
  if (!sweep.axes.length) out.push('  (none)');
  for (const axis of sweep.axes) {
    if ('cases' in axis) {
      for (const c of axis.cases)
        out.push(
          `  case  ${Object.entries(c)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}`,
        );
      continue;
    }
    const { kind, fields } = fieldsOf(axis);
    const joiner = kind === 'grid' ? ' × ' : ' paired with ';
    out.push(
      `  ${kind === 'zip' ? 'zip ' : kind}  ${Object.entries(fields)
        .map(([k, v]) => `${k} ∈ {${v.join(', ')}}`)
        .join(joiner)}`,
    );
  }
  out.push('', `cells (${cells.length}):`);
  for (const c of cells) out.push(`  ${c.key}  ${c.name}`);
  const table = comparisonTable({
    rows: cells.map((c) => plannedRow(c, kinds)),
    report: sweep.report,
    axes: sweep.axes,
  });
  out.push('', "table layout (our cells fill in as they finish; paper rows: the paper's numbers):", '', table.text, '');
  out.push(...table.legend, '');
  return `${out.join('\n')}\n`;
}

function plannedRow(cell: SweepCell, kinds: Map<string, CellRow['kind']>): CellRow {
  return {
    category: cell.category,
    kind: kinds.get(cell.category) ?? 'unknown',
    seed: cell.seed,
    assignments: cell.assignments,
    status: 'MISSING',
    metrics: {},
  };
}
