/**
 * The MFCN neck (multi-scale feature concatenation) of UniAD and CRAD (reference code
 * `models/necks/mfcn.py`): every tapped backbone map is resized to the stride of the first
 * (`outstrides: [8]`) by `nn.UpsamplingBilinear2d(scale_factor = instride // outstride)` — bilinear
 * with `align_corners=True` — and the maps are concatenated on channels. For EfficientNet-B4's
 * out-layers 3 and 4 that is [B, 28, 28, 56 + 160] at a 224-pixel input: the `feature_align` that
 * CRAD reconstructs. Frozen and per image, so it is what the feature cache stores for CRAD.
 *
 * @example
 * ```ts
 * const aligned = tf.tidy(() => mfcnNeckTf(backboneMaps)); // [B, 28, 28, 216]
 * const value = lowerMfcnNeck(g, mapNames, shapes);         // NCHW [n, 216, 28, 28]
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { attr, type OnnxGraphBuilder } from '@cfa/tensor-runtime';
import type { FeatureShape } from '@cfa/backbone';
import { lowerResizeBilinear } from './patch-embedding-onnx';

/**
 * Each map's upsampling factor (the reference's `instride // outstride`), checked to land every map
 * on the first map's grid (where torch.cat would refuse it).
 */
export function mfcnScaleFactors(shapes: Pick<FeatureShape, 'height' | 'width' | 'stride' | 'name'>[]): number[] {
  if (shapes.length === 0) throw new Error('mfcnNeck: no feature maps to concatenate');
  const [first] = shapes;
  return shapes.map((s) => {
    const factor = Math.round(s.stride / first.stride);
    if (factor < 1 || s.height * factor !== first.height || s.width * factor !== first.width)
      throw new Error(
        `mfcnNeck: map ${s.name} (${s.height}×${s.width}, stride ${s.stride}) upsampled ×${factor} is not the first map's ${first.height}×${first.width}: the input size must be a multiple of the largest stride`,
      );
    return factor;
  });
}

/**
 * The neck on TensorFlow.js: maps [B, hᵢ, wᵢ, Cᵢ] (NHWC) → [B, H, W, Σ Cᵢ] on the first map's grid.
 */
export function mfcnNeckTf(maps: tf.Tensor4D[]): tf.Tensor4D {
  const [, height, width] = maps[0].shape;
  mfcnScaleFactors(
    maps.map((m, i) => ({ name: `#${i}`, height: m.shape[1], width: m.shape[2], stride: height / m.shape[1] })),
  );
  return tf.tidy(() =>
    tf.concat(
      maps.map((m) =>
        m.shape[1] === height && m.shape[2] === width ? m : tf.image.resizeBilinear(m, [height, width], true),
      ),
      3,
    ),
  ) as tf.Tensor4D;
}

/** The neck in a graph: NCHW map names with their shapes → NCHW [n, Σ Cᵢ, H, W]. */
export function lowerMfcnNeck(g: OnnxGraphBuilder, maps: string[], shapes: FeatureShape[]): string {
  mfcnScaleFactors(shapes);
  const { height, width } = shapes[0];
  const resized = maps.map((m, i) =>
    shapes[i].height === height && shapes[i].width === width
      ? m
      : lowerResizeBilinear(g, m, height, width, 'align_corners'),
  );
  return resized.length === 1 ? resized[0] : g.node('Concat', resized, { axis: attr.int(1) })[0];
}
