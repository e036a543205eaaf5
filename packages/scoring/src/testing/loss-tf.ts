/**
 * CFA's loss (loss.ts, paper §3.1 Eq. 1–3) as TensorFlow.js ops: the independent check of
 * `cfaLossAndGradient`'s closed-form gradient, which the specs compare with TensorFlow.js autograd
 * through this function.
 *
 * @example
 * ```ts
 * const [gradPhi, gradR] = tf.grads((p, r) => cfaLossTf({ phi: p, gathered, r, config }).loss)([phi, r]);
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { assert, assertShape } from '@cfa/tensor-runtime';
import { type LossConfig, negativeColumns, neighboursNeeded } from '../loss';

export interface LossTfParams {
  /** φ [P, D′] (differentiable). */
  phi: tf.Tensor2D;
  /** The gathered nearest centres [P, k, D′], ascending distance. */
  gathered: tf.Tensor3D;
  /** Radius r, a scalar (differentiable). */
  r: tf.Scalar;
  config: LossConfig;
}

/** The same loss as TensorFlow.js ops, for autograd. Returns scalars; the caller disposes. */
export function cfaLossTf({ phi, gathered, r, config }: LossTfParams): {
  loss: tf.Scalar;
  lossAtt: tf.Scalar;
  lossRep: tf.Scalar;
} {
  const b = assertShape('cfaLossTf', 'phi', phi.shape, ['P', 'D']);
  assertShape('cfaLossTf', 'gathered', gathered.shape, ['P', 'k', 'D'], b);
  assert(
    b.k >= neighboursNeeded(config),
    'cfaLossTf',
    () => `gathered has ${b.k} neighbours, the loss needs ${neighboursNeeded(config)}`,
  );
  return tf.tidy(() => {
    if (config.terms === 'none') {
      const zero = tf.scalar(0);
      return { loss: zero, lossAtt: zero.clone(), lossRep: zero.clone() };
    }
    const d = tf.sum(tf.square(tf.sub(tf.expandDims(phi, 1), gathered)), 2); // [P, k]
    const r2 = tf.square(r);
    const lossAtt = tf.div(tf.mean(tf.relu(tf.sub(tf.slice(d, [0, 0], [-1, config.K]), r2))), config.nu) as tf.Scalar;
    const [negStart, negEnd] = negativeColumns(config);
    const lossRep =
      config.terms === 'att+rep' && negEnd > negStart
        ? (tf.div(
            tf.mean(tf.relu(tf.sub(tf.sub(r2, tf.slice(d, [0, negStart], [-1, negEnd - negStart])), config.alpha))),
            config.nu,
          ) as tf.Scalar)
        : tf.scalar(0);
    return { loss: tf.add(lossAtt, lossRep) as tf.Scalar, lossAtt, lossRep };
  });
}
