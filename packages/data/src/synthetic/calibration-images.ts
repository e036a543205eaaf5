/**
 * A fixed, category-independent set of normal synthetic images (the classic set's categories, in
 * turn), already ImageNet-normalised: what a seeded random-init backbone estimates its BatchNorm
 * statistics on, so that its activations are normalised like a trained network's instead of
 * growing layer by layer. The classic set stays the source when the default dataset changes, so a
 * random-init backbone (and every cached feature and committed fixture of it) stays the same.
 *
 * @example
 * ```ts
 * const images = calibrationImages({ count: 16, size: 128 }); // Float32Array [16, 128, 128, 3]
 * ```
 */
import { createRng } from '@cfa/tensor-runtime';
import { IMAGENET_MEAN, IMAGENET_STD } from '../preprocess';
import { CLASSIC_CATEGORIES } from './classic-categories';

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
    const category = CLASSIC_CATEGORIES[i % CLASSIC_CATEGORIES.length];
    const { rgb } = category.render(rng.fork(i), size).canvas;
    for (let p = 0; p < rgb.length; p++)
      out[i * rgb.length + p] = (Math.min(1, Math.max(0, rgb[p])) - IMAGENET_MEAN[p % 3]) / IMAGENET_STD[p % 3];
  }
  return out;
}
