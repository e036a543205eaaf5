/**
 * Runs a backbone definition on TensorFlow.js (NHWC). Filters are converted once, at
 * construction, from PyTorch OIHW to tfjs HWIO; `dispose()` frees them.
 *
 * @example
 * ```ts
 * const runner = createTfBackboneRunner(await loadBackbone({ name: 'resnet18' }));
 * const maps = tf.tidy(() => runner.forward(images)); // images [N, 224, 224, 3] → [N,56,56,64], [N,28,28,128], [N,14,14,256]
 * runner.dispose();
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertShape } from '@cfa/tensor-runtime';
import type { BackboneModel } from '../backbone-model';
import type { ConvSpec, NetBuilder } from '../architectures/net-builder';
import { requireWeight } from '../weights/state-dict';
import { TF_NET_OPS, tfConv2d, toTfFilter } from './tf-ops';

export interface TfBackboneRunner {
  /** images [N, H, W, 3] float32 (ImageNet-normalised) → feature maps [N, h, w, C] in definition order. */
  forward(images: tf.Tensor4D): tf.Tensor4D[];
  dispose(): void;
}

interface TfConv {
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
  depthwise: boolean;
  bn?: { mean: tf.Tensor1D; variance: tf.Tensor1D; gamma: tf.Tensor1D; beta: tf.Tensor1D };
}

export function createTfBackboneRunner(
  model: BackboneModel,
  options: { fuseBatchNorm?: boolean } = {},
): TfBackboneRunner {
  const fuse = options.fuseBatchNorm ?? true;
  const convs = new Map<string, TfConv>();
  for (const info of model.convs) {
    const { groups, inChannels, outChannels } = info.spec;
    const depthwise = groups > 1;
    if (depthwise && !(groups === inChannels && groups === outChannels)) {
      throw new Error(
        `${model.definition.name}: grouped convolution ${info.conv} (groups ${groups}) is not supported, only depthwise`,
      );
    }
    if (fuse || !info.bn) {
      const fused = model.fused.get(info.conv)!;
      convs.set(info.conv, {
        filter: toTfFilter(fused.weight.data, fused.weight.shape, depthwise),
        bias: tf.tensor1d(fused.bias),
        depthwise,
      });
    } else {
      const w = requireWeight(model.weights, `${info.conv}.weight`);
      const bias = info.spec.bias
        ? requireWeight(model.weights, `${info.conv}.bias`).data
        : new Float32Array(outChannels);
      const get = (role: string) => tf.tensor1d(requireWeight(model.weights, `${info.bn}.${role}`).data);
      convs.set(info.conv, {
        filter: toTfFilter(w.data, w.shape, depthwise),
        bias: tf.tensor1d(bias),
        depthwise,
        bn: { mean: get('running_mean'), variance: get('running_var'), gamma: get('weight'), beta: get('bias') },
      });
    }
  }

  const builder: NetBuilder<tf.Tensor4D> = {
    ...TF_NET_OPS,
    convBn(conv: string, _bn: string | null, x: tf.Tensor4D, spec: ConvSpec): tf.Tensor4D {
      const c = convs.get(conv)!;
      let y = tfConv2d(x, c.filter, spec, c.depthwise);
      y = tf.add(y, c.bias);
      if (c.bn) y = tf.batchNorm(y, c.bn.mean, c.bn.variance, c.bn.beta, c.bn.gamma, model.definition.bnEps);
      return y;
    },
  };

  return {
    forward(images) {
      assertShape(`${model.definition.name}.forward`, 'images', images.shape, ['N', null, null, 3]);
      return tf.tidy(() => model.definition.forward(builder, images));
    },
    dispose() {
      for (const c of convs.values()) {
        c.filter.dispose();
        c.bias.dispose();
        if (c.bn) Object.values(c.bn).forEach((t) => t.dispose());
      }
      convs.clear();
    },
  };
}
