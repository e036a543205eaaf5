/**
 * Short names for sweep axes and their values in table headers and charts, as the paper writes
 * them (ResNet-18, WRN50-2, γd, CFA++, PaDiM), so that tables fit a 120-column terminal. Unknown
 * axes show their last path segment; unknown values show as they are. A table axis of several
 * paths (`[method, ensemble]`) has one value per combination, the parts joined by ' · '
 * (`cfa · cfa++`), shown by `report.columnLabels` when the sweep names it (`CFA++`).
 */
import { METHODS } from '../methods/registry';
import type { Axis, TableAxis } from '../sweep/sweep-schema';

/** What joins the parts of a combined axis value. */
export const AXIS_VALUE_JOINER = ' · ';

const AXIS_LABELS: Record<string, string> = {
  'backbone.name': 'backbone',
  'loss.terms': 'loss',
  'descriptor.gammaD': 'γd',
  'memoryBank.gammaC': 'γc',
  'memoryBank.kind': 'bank',
  'view.kind': 'view',
  ensemble: 'method',
  method: 'method',
};

const VALUE_LABELS: Record<string, Record<string, string>> = {
  'backbone.name': {
    resnet18: 'ResNet-18',
    wide_resnet50_2: 'WRN50-2',
    vgg19: 'VGG19',
    vgg19_bn: 'VGG19-BN',
    efficientnet_b5: 'EffNet-B5',
  },
  ensemble: { none: 'CFA', 'cfa++': 'CFA++' },
  method: Object.fromEntries(METHODS.map((m) => [m.name, m.label])),
};

/** A cell's value on a table axis ('-' without one, '—' when the cell has no such assignment). */
export function tableAxisValue(
  assignments: Record<string, string | number | boolean>,
  axis: TableAxis | undefined,
): string {
  if (!axis) return '-';
  const paths = typeof axis === 'string' ? [axis] : axis;
  return paths.map((p) => String(assignments[p] ?? '—')).join(AXIS_VALUE_JOINER);
}

/**
 * `descriptor.gammaD` → `γd`; an axis zipped with others names them all (`γd=γc`); a combined
 * axis names its parts once each (`[method, ensemble]` → `method`).
 */
export function axisLabel(axis: TableAxis, axes: Axis[] = []): string {
  const one = (a: string) => AXIS_LABELS[a] ?? a.split('.').at(-1)!;
  if (typeof axis !== 'string') return [...new Set(axis.map(one))].join(AXIS_VALUE_JOINER);
  const zip = axes.find((a): a is Extract<Axis, { zip: unknown }> => 'zip' in a && axis in a.zip);
  return zip ? Object.keys(zip.zip).map(one).join('=') : one(axis);
}

/**
 * `wide_resnet50_2` on `backbone.name` → `WRN50-2`; a combined value → its label in `labels`
 * (`report.columnLabels`), else its parts' labels joined.
 */
export function valueLabel(axis: TableAxis | undefined, value: string, labels: Record<string, string> = {}): string {
  if (labels[value] !== undefined) return labels[value];
  if (axis === undefined || typeof axis === 'string') return (axis && VALUE_LABELS[axis]?.[value]) ?? value;
  // the ensemble's own labels name CFA (none → CFA); beside a method it is shown as it is
  const parts = value.split(AXIS_VALUE_JOINER);
  return axis
    .map((p, i) => (p === 'ensemble' ? parts[i] : (VALUE_LABELS[p]?.[parts[i]] ?? parts[i])))
    .join(AXIS_VALUE_JOINER);
}
