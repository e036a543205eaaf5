/** The boundary check of every runner that takes a batch of images as a flat NHWC array. */
import { assert } from '@cfa/tensor-runtime';

/** Throws, naming `op`, unless `images` holds [batch, inputSize, inputSize, 3] values. */
export function assertImageBatch(op: string, images: Float32Array, batch: number, inputSize: number): void {
  const expected = batch * inputSize * inputSize * 3;
  assert(
    images.length === expected,
    op,
    () => `images must hold [${batch}, ${inputSize}, ${inputSize}, 3] = ${expected} values, got ${images.length}`,
  );
}
