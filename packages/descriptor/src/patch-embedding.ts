/**
 * CFA's frozen patch embedding (paper §3.1; anomalib `cfa/torch_model.py`, `Descriptor.forward`):
 * every backbone map goes through a 3×3 average pool (stride 1, zero padding 1, divided by 9 also at
 * the border, as `F.avg_pool2d`'s default count_include_pad), is upsampled bilinearly
 * (align_corners = false) to the largest map, and the maps are concatenated on channels.
 *
 * Nothing here trains, so the embedding of an image and view is a pure function: the feature
 * cache stores it, and the only trainable part of the descriptor is the CoordConv after it.
 *
 * @example
 * ```ts
 * const embedding = patchEmbedding({ maps }); // maps [N,56,56,64], [N,28,28,128], [N,14,14,256] → [N,56,56,448]
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertShape } from '@cfa/tensor-runtime';

export interface PatchEmbeddingParams {
  /** Backbone feature maps, largest first, each [N, h, w, C] (NHWC, float32). */
  maps: tf.Tensor4D[];
  /**
   * Divide each pooled map by its channel count (the reference code's EfficientNet branch).
   */
  scaleByChannels?: boolean;
}

/** Returns [N, H, W, ΣC] where H×W is the size of the first (largest) map. */
export function patchEmbedding({ maps, scaleByChannels = false }: PatchEmbeddingParams): tf.Tensor4D {
  if (maps.length === 0) throw new Error('Error in patchEmbedding: maps must hold at least one feature map');
  const bound = assertShape('patchEmbedding', 'maps[0]', maps[0].shape, ['N', 'H', 'W', null]);
  maps.forEach((m, i) => assertShape('patchEmbedding', `maps[${i}]`, m.shape, ['N', null, null, null], bound));
  return tf.tidy(() => {
    const parts = maps.map((m) => {
      let pooled: tf.Tensor4D = tf.avgPool(tf.pad(m, [[0, 0], [1, 1], [1, 1], [0, 0]]), 3, 1, 'valid');
      if (scaleByChannels) pooled = tf.div(pooled, m.shape[3]);
      if (m.shape[1] !== bound.H || m.shape[2] !== bound.W) {
        pooled = tf.image.resizeBilinear(pooled, [bound.H, bound.W], false, true);
      }
      return pooled;
    });
    return tf.concat(parts, 3);
  });
}
