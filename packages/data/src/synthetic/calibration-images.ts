/**
 * A fixed, category-independent set of normal synthetic images (every category, in turn), already
 * ImageNet-normalised: what a seeded random-init backbone estimates its BatchNorm statistics on, so
 * that its activations are normalised like a trained network's instead of growing layer by layer.
 *
 * @example
 * ```ts
 * const images = calibrationImages({ count: 16, size: 128 }); // Float32Array [16, 128, 128, 3]
 * ```
 */
import { createRng } from '@cfa/tensor-runtime';
import { IMAGENET_MEAN, IMAGENET_STD } from '../preprocess';
import { SYNTHETIC_CATEGORY_DEFINITIONS } from './categories';

export function calibrationImages({
  count,
  size,
  seed = 0,
}: {
  count: number;
  size: number;
  seed?: number;
}): Float32Array {
  const out = new Float32Array(count * size * size * 3);
  const rng = createRng(seed).fork('calibration');
  for (let i = 0; i < count; i++) {
    const category = SYNTHETIC_CATEGORY_DEFINITIONS[i % SYNTHETIC_CATEGORY_DEFINITIONS.length];
    const { rgb } = category.render(rng.fork(i), size).canvas;
    for (let p = 0; p < rgb.length; p++)
      out[i * rgb.length + p] = (Math.min(1, Math.max(0, rgb[p])) - IMAGENET_MEAN[p % 3]) / IMAGENET_STD[p % 3];
  }
  return out;
}
