/**
 * The backbones this project defines, by the names sweep files use.
 */
import type { BackboneDefinition, Taps } from './architectures/net-builder';
import { efficientNetB4Definition, efficientNetB5Definition } from './architectures/efficientnet';
import { resnet18Definition, wideResnet50Definition } from './architectures/resnet';
import { vgg19BnDefinition, vgg19Definition } from './architectures/vgg';

const DEFINITIONS: Record<string, (taps: Taps) => BackboneDefinition> = {
  resnet18: (taps) => resnet18Definition({ taps }),
  wide_resnet50_2: (taps) => wideResnet50Definition({ taps }),
  vgg19: (taps) => vgg19Definition({ taps }),
  vgg19_bn: (taps) => vgg19BnDefinition({ taps }),
  efficientnet_b5: (taps) => efficientNetB5Definition({ taps }),
  efficientnet_b4: (taps) => efficientNetB4Definition({ taps }),
};

export function availableBackbones(): string[] {
  return Object.keys(DEFINITIONS);
}

/** `taps` defaults to 'reference' (the CFA reference code's feature maps). */
export function backboneDefinition(name: string, taps: Taps = 'reference'): BackboneDefinition {
  const make = DEFINITIONS[name];
  if (make) return make(taps);
  throw new Error(`unknown backbone '${name}': expected one of ${availableBackbones().join(', ')}`);
}
