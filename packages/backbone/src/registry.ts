/**
 * The backbones this project defines, by the names sweep files use.
 */
import type { BackboneDefinition } from './architectures/net-builder';
import { resnet18Definition, wideResnet50Definition } from './architectures/resnet';

const DEFINITIONS: Record<string, () => BackboneDefinition> = {
  resnet18: resnet18Definition,
  wide_resnet50_2: wideResnet50Definition,
};

/** Named in the paper but not defined yet: they fail with a clear "not implemented". */
const PLANNED = ['vgg19', 'vgg19_bn', 'efficientnet_b5'];

export class BackboneNotImplementedError extends Error {
  constructor(name: string) {
    super(`backbone '${name}' is not implemented yet (available: ${availableBackbones().join(', ')})`);
    this.name = 'BackboneNotImplementedError';
  }
}

export function availableBackbones(): string[] {
  return Object.keys(DEFINITIONS);
}

/** Every name a config may use: the defined ones and the planned ones. */
export function knownBackboneNames(): string[] {
  return [...availableBackbones(), ...PLANNED.filter((n) => !(n in DEFINITIONS))];
}

export function backboneDefinition(name: string): BackboneDefinition {
  const make = DEFINITIONS[name];
  if (make) return make();
  if (PLANNED.includes(name)) throw new BackboneNotImplementedError(name);
  throw new Error(`unknown backbone '${name}': expected one of ${knownBackboneNames().join(', ')}`);
}
