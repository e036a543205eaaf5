/**
 * φ = [X, coords] · W + b over a batch of upsampled embeddings as TensorFlow.js ops (paper §3.1:
 * the 1×1 CoordConv; anomalib `cfa/torch_model.py`, `CoordConv2d`), differentiable: the
 * TensorFlow.js path of `createDescriptorRunner` runs it, and the specs take TensorFlow.js
 * autograd through it as the independent check of the closed-form weight gradient.
 *
 * @example
 * ```ts
 * const phi = descriptorForwardTf({ x, weight, bias, coords }); // [B, HW, D] → [B, HW, D′]
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertShape } from '@cfa/tensor-runtime';

export interface DescriptorForwardTfParams {
  /** [B, HW, D] embeddings. */
  x: tf.Tensor3D;
  /** [D + c, D'] */
  weight: tf.Tensor2D;
  /** [D'] */
  bias: tf.Tensor1D;
  /** [HW, c] coordinate channels. */
  coords: tf.Tensor2D;
}

/** Returns φ [B, HW, D']. */
export function descriptorForwardTf({ x, weight, bias, coords }: DescriptorForwardTfParams): tf.Tensor3D {
  const b = assertShape('descriptorForwardTf', 'x', x.shape, ['B', 'HW', 'D']);
  assertShape('descriptorForwardTf', 'coords', coords.shape, ['HW', 'C'], b);
  assertShape('descriptorForwardTf', 'weight', weight.shape, [b.D + b.C, 'Dout'], b);
  assertShape('descriptorForwardTf', 'bias', bias.shape, ['Dout'], b);
  return tf.tidy(() => {
    const wx = tf.slice(weight, [0, 0], [b.D, b.Dout]);
    const wc = tf.slice(weight, [b.D, 0], [b.C, b.Dout]);
    const main = tf.matMul(tf.reshape(x, [b.B * b.HW, b.D]), wx);
    const coordTerm = tf.add(tf.matMul(coords, wc), bias); // [HW, D']
    return tf.add(tf.reshape(main, [b.B, b.HW, b.Dout]), coordTerm) as tf.Tensor3D;
  });
}
