import * as tf from '@tensorflow/tfjs-core';
import { selectEngine } from '@cfa/tensor-runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { patchEmbedding } from './patch-embedding-tf';

beforeAll(async () => {
  await selectEngine({ requested: 'tfjs', tfBackend: 'wasm' });
});

describe('patchEmbedding', () => {
  it('x=[1,3,3,1] of ones: 3×3 avg-pool counts the zero padding (corner 4/9, edge 6/9, centre 1)', () => {
    const x = tf.ones([1, 3, 3, 1]) as tf.Tensor4D;
    const y = patchEmbedding({ maps: [x] });
    expect(Array.from(y.dataSync())).toEqual([4, 6, 4, 6, 9, 6, 4, 6, 4].map((v) => expect.closeTo(v / 9, 6)));
    tf.dispose([x, y]);
  });

  it('maps=[1,4,4,1],[1,2,2,2]: upsamples the small map bilinearly (align_corners=false) and concatenates on channels', () => {
    const big = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    // a 2×2 map whose pooled values are easy: pooling a constant 9 gives 4, 6, … so use a constant map
    const small = tf.fill([1, 2, 2, 2], 9) as tf.Tensor4D;
    const y = patchEmbedding({ maps: [big, small] });
    expect(y.shape).toEqual([1, 4, 4, 3]);
    // pooled small map is 4 everywhere (each cell sees 4 of 9 cells inside a 2×2 map); upsampling a constant keeps it
    const values = y.arraySync()[0];
    for (const row of values) for (const px of row) expect(px).toEqual([0, expect.closeTo(4, 5), expect.closeTo(4, 5)]);
    tf.dispose([big, small, y]);
  });

  it('maps=[1,1,8,1],[1,1,4,1]: upsampling 4→8 is half-pixel bilinear with edge clamping', () => {
    const big = tf.zeros([1, 1, 8, 1]) as tf.Tensor4D;
    const small = tf.tensor4d([0, 0, 0, 9], [1, 1, 4, 1]);
    // pooled small row (window 3, /9): [0, 0, 9/9, 9/9] = a
    // out[j] samples a at j/2 − 0.25 (clamped to [0, 3]):
    //   a0, .75a0+.25a1, .25a0+.75a1, .75a1+.25a2, .25a1+.75a2, .75a2+.25a3, .25a2+.75a3, a3
    const y = patchEmbedding({ maps: [big, small] });
    expect(Array.from(y.dataSync()).filter((_, i) => i % 2 === 1)).toEqual(
      [0, 0, 0, 0.25, 0.75, 1, 1, 1].map((v) => expect.closeTo(v, 6)),
    );
    tf.dispose([big, small, y]);
  });

  it('divides each pooled map by its channel count when asked (EfficientNet branch)', () => {
    const x = tf.ones([1, 3, 3, 4]) as tf.Tensor4D;
    const y = patchEmbedding({ maps: [x], scaleByChannels: true });
    expect(y.dataSync()[4 * 4]).toBeCloseTo(1 / 4, 6); // centre pixel, channel 0
    tf.dispose([x, y]);
  });

  it('rejects maps with different batch sizes, naming the argument', () => {
    const a = tf.zeros([2, 4, 4, 1]) as tf.Tensor4D;
    const b = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
    expect(() => patchEmbedding({ maps: [a, b] })).toThrow(
      /Error in patchEmbedding: maps\[1\] must have shape \[N, \*, \*, \*\], got \[1, 2, 2, 1\]/,
    );
    tf.dispose([a, b]);
  });
});
