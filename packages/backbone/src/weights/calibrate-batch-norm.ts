/**
 * BatchNorm statistics for a random-init backbone. torchvision's init leaves running mean 0 and
 * variance 1, so in eval mode BatchNorm does nothing and activations grow block after block
 * (wide_resnet50_2's layer3 ends up ~10⁴ times larger than layer1, and dominates the patch
 * embedding). A trained network's BatchNorm normalises instead. This runs the network once over a
 * calibration batch with BatchNorm in training mode — each layer normalised by its batch
 * statistics, in order — and stores those statistics as running mean and variance, as torch's
 * BatchNorm does with momentum=None over one batch (biased variance).
 *
 * @example
 * ```ts
 * const calibrated = calibrateBatchNorm(def, weights, calibrationImages({ count: 16, size: 128 }), 16, 128);
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackboneDefinition, ConvSpec, NetBuilder } from '../architectures/net-builder';
import { TF_NET_OPS, tfConv2d, toTfFilter } from '../execution/tf-ops';
import { requireWeight, type StateDict } from './state-dict';

export function calibrateBatchNorm(
  def: BackboneDefinition,
  weights: StateDict,
  images: Float32Array,
  count: number,
  size: number,
): StateDict {
  const out: StateDict = new Map(
    [...weights].map(([k, v]) => [k, { shape: v.shape, data: Float32Array.from(v.data) }]),
  );
  const builder: NetBuilder<tf.Tensor4D> = {
    ...TF_NET_OPS,
    convBn(conv: string, bn: string | null, x: tf.Tensor4D, spec: ConvSpec): tf.Tensor4D {
      const w = requireWeight(out, `${conv}.weight`);
      const depthwise = (spec.groups ?? 1) > 1;
      let y = tfConv2d(x, toTfFilter(w.data, w.shape, depthwise), spec, depthwise);
      if (spec.bias) y = tf.add(y, requireWeight(out, `${conv}.bias`).data);
      if (!bn) return y;
      const { mean, variance } = tf.moments(y, [0, 1, 2]);
      out.get(`${bn}.running_mean`)!.data.set(mean.dataSync());
      out.get(`${bn}.running_var`)!.data.set(variance.dataSync());
      const gamma = requireWeight(out, `${bn}.weight`).data;
      const beta = requireWeight(out, `${bn}.bias`).data;
      return tf.batchNorm(y, mean, variance, beta, gamma, def.bnEps) as tf.Tensor4D;
    },
  };
  tf.tidy(() => {
    def.forward(builder, tf.tensor4d(images, [count, size, size, 3]));
  });
  return out;
}
