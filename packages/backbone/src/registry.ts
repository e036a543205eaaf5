/**
 * The backbones this project defines, by the names sweep files use.
 */
import type { BackboneDefinition } from './architectures/net-builder';
import { efficientNetB5Definition } from './architectures/efficientnet';
import { resnet18Definition, wideResnet50Definition } from './architectures/resnet';
import { vgg19BnDefinition, vgg19Definition } from './architectures/vgg';

const DEFINITIONS: Record<string, () => BackboneDefinition> = {
  resnet18: () => resnet18Definition(),
  wide_resnet50_2: () => wideResnet50Definition(),
  vgg19: () => vgg19Definition(),
  vgg19_bn: () => vgg19BnDefinition(),
  efficientnet_b5: () => efficientNetB5Definition(),
};

export function availableBackbones(): string[] {
  return Object.keys(DEFINITIONS);
}

export function backboneDefinition(name: string): BackboneDefinition {
  const make = DEFINITIONS[name];
  if (make) return make();
  throw new Error(`unknown backbone '${name}': expected one of ${availableBackbones().join(', ')}`);
}
