/**
 * The TensorFlow.js meaning of the `NetBuilder` ops (net-builder.ts), written once for every
 * tfjs interpreter of a definition: the runner (`tf-runner.ts`, fused BatchNorm) and the
 * random-init BatchNorm calibration (`weights/calibrate-batch-norm.ts`, batch statistics). They
 * differ only in what follows a convolution, so `convBn` stays theirs; the convolution itself,
 * the filter layout and every other op are here.
 *
 * @example
 * ```ts
 * const builder: NetBuilder<tf.Tensor4D> = { ...TF_NET_OPS, convBn: (conv, bn, x, spec) => tfConv2d(x, filters.get(conv)!, spec, false) };
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { type ConvSpec, type NetBuilder, paddingPair } from '../architectures/net-builder';

/** Every op but `convBn`, NHWC. */
export const TF_NET_OPS: Omit<NetBuilder<tf.Tensor4D>, 'convBn'> = {
  relu: (x) => tf.relu(x),
  leakyRelu: (x, slope) => tf.leakyRelu(x, slope),
  silu: (x) => tf.mul(x, tf.sigmoid(x)),
  sigmoid: (x) => tf.sigmoid(x),
  maxPool: (x, spec) => tf.maxPool(x, spec.kernel, spec.stride, spec.padding),
  globalAvgPool: (x) => tf.mean(x, [1, 2], true),
  add: (a, b) => tf.add(a, b),
  mul: (a, b) => tf.mul(a, b),
  concat: (xs) => tf.concat(xs, 3),
};

/** A PyTorch OIHW filter as tfjs wants it: HWIO, or HW(I)(multiplier) for a depthwise one. */
export function toTfFilter(data: Float32Array, shape: number[], depthwise: boolean): tf.Tensor4D {
  return tf.tidy(
    () =>
      tf.transpose(
        tf.tensor4d(data, shape as [number, number, number, number]),
        depthwise ? [2, 3, 0, 1] : [2, 3, 1, 0],
      ) as tf.Tensor4D,
  );
}

/** The convolution of `spec` with its zero padding (symmetric, or `[begin, end]`), without bias. */
export function tfConv2d(x: tf.Tensor4D, filter: tf.Tensor4D, spec: ConvSpec, depthwise: boolean): tf.Tensor4D {
  const [begin, end] = paddingPair(spec.padding);
  const s = spec.stride ?? 1;
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [begin, end],
    [begin, end],
    [0, 0],
  ];
  return depthwise ? tf.depthwiseConv2d(x, filter, s, pad) : tf.conv2d(x, filter, s, pad);
}
