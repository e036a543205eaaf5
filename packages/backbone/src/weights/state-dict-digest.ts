/**
 * A fingerprint of a backbone's weights as the engines use them: sha256 over every parameter, in
 * name order, of its name, shape and float32 bytes. A saved model records it beside the weights'
 * source, so that a model fitted on one backbone is never scored with another — a weight file
 * replaced under the same path, or a random init (seed + BatchNorm calibration) that a later
 * version of the generator computes differently.
 *
 * @example
 * ```ts
 * const backbone = await loadBackbone({ name: 'resnet18', seed: 0 });
 * stateDictDigest(backbone.weights); // '3f1c…' (64 hex digits)
 * ```
 */
import { createHash } from 'node:crypto';
import type { StateDict } from './state-dict';

export function stateDictDigest(weights: StateDict): string {
  const hash = createHash('sha256');
  for (const name of [...weights.keys()].sort()) {
    const { shape, data } = weights.get(name)!;
    hash.update(`${name}:[${shape.join(',')}]\n`);
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return hash.digest('hex');
}
