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

/** Each map 3×3-average-pooled at its own size (the embedding pyramid's levels), each [N, h, w, C]. */
export function pooledMaps(
  { maps, scaleByChannels = false }: PatchEmbeddingParams,
  caller = 'pooledMaps',
): tf.Tensor4D[] {
  if (maps.length === 0) throw new Error(`Error in ${caller}: maps must hold at least one feature map`);
  const bound = assertShape(caller, 'maps[0]', maps[0].shape, ['N', 'H', 'W', null]);
  maps.forEach((m, i) => assertShape(caller, `maps[${i}]`, m.shape, ['N', null, null, null], bound));
  return maps.map((m) =>
    tf.tidy(() => {
      const pooled: tf.Tensor4D = tf.avgPool(
        tf.pad(m, [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ]),
        3,
        1,
        'valid',
      );
      return scaleByChannels ? tf.div(pooled, m.shape[3]) : pooled;
    }),
  );
}

/** Returns [N, H, W, ΣC] where H×W is the size of the first (largest) map. */
export function patchEmbedding(params: PatchEmbeddingParams): tf.Tensor4D {
  const pooled = pooledMaps(params, 'patchEmbedding');
  const [, H, W] = pooled[0].shape;
  const out = tf.tidy(() =>
    tf.concat(
      pooled.map((p) => (p.shape[1] !== H || p.shape[2] !== W ? tf.image.resizeBilinear(p, [H, W], false, true) : p)),
      3,
    ),
  );
  tf.dispose(pooled);
  return out;
}
