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

/** The blend's values in a graph, channels on axis 1 (NCHW maps or [N, C] rows). */
interface BlendGraph {
  blended: string;
  sim: string;
  cos: string;
  unitR: string;
  unitF: string;
  normR: string;
}

function lowerBlend(
  g: OnnxGraphBuilder,
  reconstruction: string,
  features: string,
  blend: ReconstructionBlend,
): BlendGraph {
  const channelAxis = g.ints('axes', [1]);
  const diff = g.node('Sub', [reconstruction, features])[0];
  const mse = g.node('ReduceMean', [g.node('Mul', [diff, diff])[0]], {
    axes: attr.ints([1]),
    keepdims: attr.int(1),
  })[0];
  const one = g.scalar('one', 1);
  const clamped = g.node('Clip', [
    g.node('Mul', [mse, g.scalar('mse_coef', blend.mseCoef)])[0],
    g.scalar('zero', 0),
    one,
  ])[0];
  const agreement = g.node('Sub', [one, g.node('Round', [clamped])[0]])[0];
  const norm = (x: string) =>
    g.node('Max', [
      g.node('Sqrt', [g.node('ReduceSum', [g.node('Mul', [x, x])[0], channelAxis], { keepdims: attr.int(1) })[0]])[0],
      g.scalar('cos_eps', COSINE_EPS),
    ])[0];
  const normR = norm(reconstruction);
  const unitR = g.node('Div', [reconstruction, normR])[0];
  const unitF = g.node('Div', [features, norm(features)])[0];
  const cos = g.node('ReduceSum', [g.node('Mul', [unitR, unitF])[0], channelAxis], { keepdims: attr.int(1) })[0];
  const sim = g.node('Add', [
    g.node('Mul', [agreement, g.scalar('mse_lambda', blend.mseLambda)])[0],
    g.node('Mul', [cos, g.scalar('cos_lambda', blend.cosLambda)])[0],
  ])[0];
  const blended = g.node('Add', [
    g.node('Mul', [sim, features])[0],
    g.node('Mul', [g.node('Sub', [one, sim])[0], reconstruction])[0],
  ])[0];
  return { blended, sim, cos, unitR, unitF, normR };
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
  const { blended } = lowerBlend(g, reconstruction, features, blend);
  const residual = g.node('Sub', [blended, features])[0];
  return g.node('Sqrt', [
    g.node('ReduceSum', [g.node('Mul', [residual, residual])[0], g.ints('axes', [1])], { keepdims: attr.int(0) })[0],
  ])[0];
}

/**
 * FeatureMSELoss of the blend and its gradient with respect to the reconstruction, in a graph
 * (training): rows R and F [N, C] → `loss` (a scalar) and `gradReconstruction` [N, C]. With
 * e = R′ − F = (1 − sim)(R − F) and n = N·C:
 *
 *   ∂L/∂R′ = 2e/n;   ∂L/∂sim = Σ_c ∂L/∂R′ · (F − R);   m (rounded) passes no gradient;
 *   ∂L/∂R = ∂L/∂R′ · (1 − sim) + λ_cos · ∂L/∂sim · (F̂ − cos · R̂) / ‖R‖
 *
 * (R̂, F̂ the unit vectors; `F.cosine_similarity`'s gradient where ‖R‖ > ε).
 */
export function lowerReconstructionLossTrain(
  g: OnnxGraphBuilder,
  reconstruction: string,
  features: string,
  blend: ReconstructionBlend,
): { loss: string; gradReconstruction: string } {
  const b = lowerBlend(g, reconstruction, features, blend);
  const residual = g.node('Sub', [b.blended, features])[0];
  const loss = g.node('ReduceMean', [g.node('Mul', [residual, residual])[0]], { keepdims: attr.int(0) })[0];
  const count = g.node('Cast', [g.node('Size', [residual])[0]], { to: attr.int(1) })[0];
  const gradBlended = g.node('Div', [g.node('Mul', [residual, g.scalar('two', 2)])[0], count])[0];
  const gradSim = g.node(
    'ReduceSum',
    [g.node('Mul', [gradBlended, g.node('Sub', [features, reconstruction])[0]])[0], g.ints('axes', [1])],
    { keepdims: attr.int(1) },
  )[0];
  const direct = g.node('Mul', [gradBlended, g.node('Sub', [g.scalar('one', 1), b.sim])[0]])[0];
  const cosTerm = g.node('Div', [g.node('Sub', [b.unitF, g.node('Mul', [b.cos, b.unitR])[0]])[0], b.normR])[0];
  const throughCos = g.node('Mul', [g.node('Mul', [gradSim, g.scalar('cos_lambda', blend.cosLambda)])[0], cosTerm])[0];
  return { loss, gradReconstruction: g.node('Add', [direct, throughCos])[0] };
}
