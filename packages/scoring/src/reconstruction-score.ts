/**
 * Scoring by feature reconstruction, as CRAD computes it (Lee et al. 2024 §3.4; reference
 * `models/reconstructions/crad.py` `forward`, `utils/criterion_helper.py` `FeatureMSELoss`), per
 * feature position with R the reconstruction and F the features:
 *
 *   mse = mean_c (R − F)²;   m = 1 − round(clamp(mse·coef, 0, 1))   (coef = `mse_coef`, 0.05)
 *   cos = cosine similarity of R and F over channels
 *   sim = λ_mse·m + λ_cos·cos                                          (0.3, 0.7)
 *   R′ = sim·F + (1 − sim)·R                                           (the blended reconstruction)
 *   loss = mean (R′ − F)²  over every position and channel             (FeatureMSELoss, weight 1)
 *   distance = ‖R′ − F‖₂ over channels                                 (the patch anomaly score)
 *
 * The blend runs in training too (the reference's forward always applies it), so the loss's
 * gradient flows through the cosine term; `round` has none. The cosine is PyTorch's
 * (`F.cosine_similarity`, ε 1e-8: each vector divided by its norm clamped at ε).
 *
 * @example
 * ```ts
 * const blended = blendedReconstructionTf({ reconstruction, features, ...DEFAULT_BLEND });
 * const loss = featureMseLossTf(blended, features);            // scalar
 * const distances = reconstructionDistanceTf(blended, features); // [B, h, w]
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { attr, assertShape, type OnnxGraphBuilder } from '@cfa/tensor-runtime';

/** The blend's constants; defaults are the reference config's (`experiments/config.yaml`). */
export const ReconstructionBlendSchema = z.strictObject({
  /** λ_mse: weight of the thresholded MSE agreement (`mse_lamb`). */
  mseLambda: z.number().default(0.3),
  /** λ_cos: weight of the cosine similarity (`cos_lamb`). */
  cosLambda: z.number().default(0.7),
  /** The MSE's scale before clamping and rounding (`mse_coef`). */
  mseCoef: z.number().nonnegative().default(0.05),
});
export type ReconstructionBlend = z.infer<typeof ReconstructionBlendSchema>;

/** `F.cosine_similarity`'s ε. */
const COSINE_EPS = 1e-8;

export interface BlendTfParams extends ReconstructionBlend {
  /** R [B, h, w, C]. */
  reconstruction: tf.Tensor4D;
  /** F [B, h, w, C]. */
  features: tf.Tensor4D;
}

/** R′ = sim·F + (1 − sim)·R, [B, h, w, C]; differentiable with respect to R. */
export function blendedReconstructionTf({
  reconstruction: r,
  features: f,
  mseLambda,
  cosLambda,
  mseCoef,
}: BlendTfParams): tf.Tensor4D {
  assertShape('blendedReconstructionTf', 'reconstruction', r.shape, f.shape);
  return tf.tidy(() => {
    const mse = tf.mean(tf.square(tf.sub(r, f)), 3, true);
    const agreement = tf.sub(1, tf.round(tf.clipByValue(tf.mul(mse, mseCoef), 0, 1)));
    const unit = (x: tf.Tensor) => tf.div(x, tf.maximum(tf.sqrt(tf.sum(tf.square(x), 3, true)), COSINE_EPS));
    const cos = tf.sum(tf.mul(unit(r), unit(f)), 3, true);
    const sim = tf.add(tf.mul(agreement, mseLambda), tf.mul(cos, cosLambda));
    return tf.add(tf.mul(sim, f), tf.mul(tf.sub(1, sim), r)) as tf.Tensor4D;
  });
}

/** FeatureMSELoss: mean (R′ − F)² over everything, a scalar. */
export function featureMseLossTf(blended: tf.Tensor, features: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(blended, features))) as tf.Scalar);
}

/** ‖R′ − F‖₂ over channels: [B, h, w]. */
export function reconstructionDistanceTf(blended: tf.Tensor4D, features: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.sub(blended, features)), 3)) as tf.Tensor3D);
}

/**
 * The blend and the distance in a graph, NCHW: reconstruction and features [n, C, h, w] →
 * distances [n, h, w].
 */
export function lowerReconstructionDistance(
  g: OnnxGraphBuilder,
  reconstruction: string,
  features: string,
  blend: ReconstructionBlend,
): string {
  const scalar = (name: string, v: number) => g.initializer(g.fresh(name), new Float32Array([v]), []);
  const channelAxis = g.ints('axes', [1]);
  const diff = g.node('Sub', [reconstruction, features])[0];
  const mse = g.node('ReduceMean', [g.node('Mul', [diff, diff])[0]], {
    axes: attr.ints([1]),
    keepdims: attr.int(1),
  })[0];
  const one = scalar('one', 1);
  const clamped = g.node('Clip', [
    g.node('Mul', [mse, scalar('mse_coef', blend.mseCoef)])[0],
    scalar('zero', 0),
    one,
  ])[0];
  const agreement = g.node('Sub', [one, g.node('Round', [clamped])[0]])[0];
  const unit = (x: string) => {
    const norm = g.node('Sqrt', [
      g.node('ReduceSum', [g.node('Mul', [x, x])[0], channelAxis], { keepdims: attr.int(1) })[0],
    ])[0];
    return g.node('Div', [x, g.node('Max', [norm, scalar('cos_eps', COSINE_EPS)])[0]])[0];
  };
  const cos = g.node('ReduceSum', [g.node('Mul', [unit(reconstruction), unit(features)])[0], channelAxis], {
    keepdims: attr.int(1),
  })[0];
  const sim = g.node('Add', [
    g.node('Mul', [agreement, scalar('mse_lambda', blend.mseLambda)])[0],
    g.node('Mul', [cos, scalar('cos_lambda', blend.cosLambda)])[0],
  ])[0];
  const blended = g.node('Add', [
    g.node('Mul', [sim, features])[0],
    g.node('Mul', [g.node('Sub', [one, sim])[0], reconstruction])[0],
  ])[0];
  const residual = g.node('Sub', [blended, features])[0];
  return g.node('Sqrt', [
    g.node('ReduceSum', [g.node('Mul', [residual, residual])[0], channelAxis], { keepdims: attr.int(0) })[0],
  ])[0];
}
