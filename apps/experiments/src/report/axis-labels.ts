/**
 * Short names for sweep axes and their values in table headers and charts, as the paper writes
 * them (ResNet-18, WRN50-2, γd, CFA++), so that tables fit a 120-column terminal. Unknown axes
 * show their last path segment; unknown values show as they are.
 */
import type { Axis } from '../sweep/sweep-schema';

const AXIS_LABELS: Record<string, string> = {
  'backbone.name': 'backbone',
  'loss.terms': 'loss',
  'descriptor.gammaD': 'γd',
  'memoryBank.gammaC': 'γc',
  'memoryBank.kind': 'bank',
  'view.kind': 'view',
  ensemble: 'method',
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
};

/** `descriptor.gammaD` → `γd`; an axis zipped with others names them all (`γd=γc`). */
export function axisLabel(axis: string, axes: Axis[] = []): string {
  const one = (a: string) => AXIS_LABELS[a] ?? a.split('.').at(-1)!;
  const zip = axes.find((a): a is Extract<Axis, { zip: unknown }> => 'zip' in a && axis in a.zip);
  return zip ? Object.keys(zip.zip).map(one).join('=') : one(axis);
}

/** `wide_resnet50_2` on `backbone.name` → `WRN50-2`. */
export function valueLabel(axis: string | undefined, value: string): string {
  return (axis && VALUE_LABELS[axis]?.[value]) ?? value;
}
