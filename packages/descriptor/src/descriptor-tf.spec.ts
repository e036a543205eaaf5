import * as tf from '@tensorflow/tfjs-core';
import { selectEngine } from '@cfa/tensor-runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { descriptorForwardTf } from './descriptor-tf';

beforeAll(async () => {
  await selectEngine({ requested: 'tfjs', tfBackend: 'wasm' });
});

describe('descriptorForwardTf', () => {
  it('checks shapes at the boundary', () => {
    const xs = tf.zeros([1, 5, 6]) as tf.Tensor3D;
    const weight = tf.zeros([8, 3]) as tf.Tensor2D;
    const bias = tf.zeros([3]) as tf.Tensor1D;
    const coords = tf.zeros([4, 2]) as tf.Tensor2D;
    expect(() => descriptorForwardTf({ x: xs, weight, bias, coords })).toThrow(
      /coords must have shape \[HW, C\], got \[4, 2\] \(dimension 0 \(HW\) is 4, but HW = 5 elsewhere\)/,
    );
    tf.dispose([xs, weight, bias, coords]);
  });
});
