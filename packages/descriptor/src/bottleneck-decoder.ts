/**
 * CRAD's reconstruction network (Lee et al. 2024 §3.3; reference `models/reconstructions/crad.py`,
 * `self.layer` and `self.recover`): what was read from the continuous memory, [B, h, w, 2C], goes
 * through `layers` MobileNetV3 bottlenecks (`models/reconstructions/mobilenetv3.py`
 * `MobileBottleneck(2C, 2C, 3, 1, exp, se=True, nl="HS")`) and a bias-free 1×1 convolution back to
 * the C feature channels. Each bottleneck, with its residual:
 *
 *   1×1 conv 2C→E, BN, h-swish; 3×3 depthwise conv (padding 1), BN; squeeze-and-excitation
 *   (mean → Linear E→E/4 → ReLU → Linear E/4→E → h-sigmoid, rescaling the channels); h-swish;
 *   1×1 conv E→2C, BN; + input
 *
 * with h-swish(x) = x·relu6(x + 3)/6, h-sigmoid(x) = relu6(x + 3)/6, BatchNorm ε 1e-5, momentum
 * 0.1 (PyTorch's defaults). The reference hard-codes the width 432 = 2 × 216 (EfficientNet-B4's
 * out-layers); here it is 2C for any C.
 *
 * `bottleneckDecoderTf` is written with MatMul, Slice, Pad and elementwise ops only — no conv2d and
 * no depthwiseConv2d — because TensorFlow.js's WebAssembly backend has no kernels for their
 * filter gradients; with these ops autograd works on every backend. In training mode BatchNorm
 * normalises by the batch's statistics (biased variance) and returns them, for
 * `updateRunningStatistics` (unbiased variance, as PyTorch); in eval mode it uses the running ones.
 *
 * @example
 * ```ts
 * const state = initBottleneckDecoder({ channels: 432, outChannels: 216, expansion: 864, layers: 11, seed: 0 });
 * const { output, batchStatistics } = bottleneckDecoderTf(params, memoryRead, { training: true });
 * updateRunningStatistics(state, await readStatistics(batchStatistics));
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { attr, createRng, type OnnxGraphBuilder } from '@cfa/tensor-runtime';
import type { StateDict } from '@cfa/backbone';
import { batchNormEntries, namedTensor, namedWeight, normalWeight, type TensorLookup } from './named-params';

/** PyTorch's `nn.BatchNorm2d` defaults, which the reference keeps. */
export const BATCH_NORM = { eps: 1e-5, momentum: 0.1 } as const;

export interface BottleneckDecoderShape {
  /** 2C: the memory read's channels, kept through every bottleneck (the residual width). */
  channels: number;
  /** C: the reconstructed features' channels (`recover`). */
  outChannels: number;
  /** E: the bottlenecks' expanded width (reference `ch_exp`: 864; CRAD-S 216). */
  expansion: number;
  layers: number;
}

/** Reference module indices inside `MobileBottleneck.conv` (an nn.Sequential). */
const CONV = { expand: 0, expandBn: 1, depthwise: 3, depthwiseBn: 4, se: 5, project: 7, projectBn: 8 } as const;

const layerPrefix = (i: number) => `layer.${i}.conv`;

/** The decoder as the reference initialises it: conv / linear weights N(0, 0.01²), BatchNorm 1 / 0. */
export function initBottleneckDecoder(shape: BottleneckDecoderShape & { seed: number }): StateDict {
  const { channels, outChannels, expansion, layers } = shape;
  const rng = createRng(shape.seed).fork('bottleneck-decoder');
  const state: StateDict = new Map();
  const squeeze = Math.floor(expansion / 4);
  for (let i = 0; i < layers; i++) {
    const p = layerPrefix(i);
    state.set(`${p}.${CONV.expand}.weight`, normalWeight([expansion, channels, 1, 1], 0.01, rng));
    for (const e of batchNormEntries(`${p}.${CONV.expandBn}`, expansion)) state.set(...e);
    state.set(`${p}.${CONV.depthwise}.weight`, normalWeight([expansion, 1, 3, 3], 0.01, rng));
    for (const e of batchNormEntries(`${p}.${CONV.depthwiseBn}`, expansion)) state.set(...e);
    state.set(`${p}.${CONV.se}.fc.0.weight`, normalWeight([squeeze, expansion], 0.01, rng));
    state.set(`${p}.${CONV.se}.fc.2.weight`, normalWeight([expansion, squeeze], 0.01, rng));
    state.set(`${p}.${CONV.project}.weight`, normalWeight([channels, expansion, 1, 1], 0.01, rng));
    for (const e of batchNormEntries(`${p}.${CONV.projectBn}`, channels)) state.set(...e);
  }
  state.set('recover.weight', normalWeight([outChannels, channels, 1, 1], 0.01, rng));
  return state;
}

/** How many bottlenecks a decoder state holds. */
export function decoderLayerCount(state: { has(name: string): boolean }): number {
  let n = 0;
  while (state.has(`${layerPrefix(n)}.${CONV.expand}.weight`)) n++;
  return n;
}

/** The BatchNorm layers of a decoder state, by prefix (`layer.0.conv.1`, …). */
export function decoderBatchNorms(layers: number): string[] {
  return Array.from({ length: layers }, (_, i) =>
    [CONV.expandBn, CONV.depthwiseBn, CONV.projectBn].map((j) => `${layerPrefix(i)}.${j}`),
  ).flat();
}

/** A batch's statistics of one BatchNorm: mean and biased variance over n = B·h·w rows. */
export interface BatchStatistics<T> {
  mean: T;
  variance: T;
  count: number;
}

export interface DecoderTfOptions {
  /** Batch statistics (and returned for the running ones), as the module in `train()` mode. */
  training: boolean;
}

export interface DecoderTfResult {
  /** [B, h, w, C]. */
  output: tf.Tensor4D;
  /** Training only: each BatchNorm's batch statistics, by prefix (kept: the caller disposes). */
  batchStatistics: Map<string, BatchStatistics<tf.Tensor1D>>;
}

const hardSigmoid = (x: tf.Tensor) => tf.div(tf.relu6(tf.add(x, 3)), 6);
const hardSwish = (x: tf.Tensor) => tf.mul(x, hardSigmoid(x));

/** rows [n, in] · W [out, in, (1, 1)]ᵀ: [n, out]. */
function linear(params: TensorLookup, name: string, rows: tf.Tensor2D): tf.Tensor2D {
  const w = namedTensor(params, name, 'bottleneck decoder');
  return tf.matMul(rows, tf.reshape(w, [w.shape[0], w.shape[1]!]), false, true);
}

/** 3×3 depthwise convolution, padding 1, stride 1, as nine shifted products. x [B, h, w, E], weight [E, 1, 3, 3]. */
function depthwise3x3(x: tf.Tensor4D, weight: tf.Tensor): tf.Tensor4D {
  const [b, h, w, e] = x.shape;
  const padded = tf.pad(x, [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ]);
  const taps = tf.transpose(tf.reshape(weight, [e, 9])); // [9, E]
  let out: tf.Tensor4D | undefined;
  for (let ky = 0; ky < 3; ky++) {
    for (let kx = 0; kx < 3; kx++) {
      const term = tf.mul(
        tf.slice(padded, [0, ky, kx, 0], [b, h, w, e]),
        tf.reshape(tf.slice(taps, [ky * 3 + kx, 0], [1, e]), [e]),
      );
      out = (out ? tf.add(out, term) : term) as tf.Tensor4D;
    }
  }
  return out!;
}

/**
 * The decoder on TensorFlow.js: x [B, h, w, 2C] (NHWC) → [B, h, w, C]. Differentiable with respect
 * to every weight in `params` (running statistics are read in eval mode only).
 */
export function bottleneckDecoderTf(params: TensorLookup, x: tf.Tensor4D, options: DecoderTfOptions): DecoderTfResult {
  const [b, h, w, channels] = x.shape;
  const n = b * h * w;
  const batchStatistics = new Map<string, BatchStatistics<tf.Tensor1D>>();
  const batchNorm = (rows: tf.Tensor2D, prefix: string): tf.Tensor2D => {
    const get = (k: string) => namedTensor(params, `${prefix}.${k}`, 'bottleneck decoder');
    let mean: tf.Tensor, variance: tf.Tensor;
    if (options.training) {
      mean = tf.mean(rows, 0);
      variance = tf.mean(tf.square(tf.sub(rows, mean)), 0);
      batchStatistics.set(prefix, {
        mean: tf.keep(mean) as tf.Tensor1D,
        variance: tf.keep(variance) as tf.Tensor1D,
        count: n,
      });
    } else {
      mean = get('running_mean');
      variance = get('running_var');
    }
    const scale = tf.mul(get('weight'), tf.rsqrt(tf.add(variance, BATCH_NORM.eps)));
    return tf.add(tf.mul(tf.sub(rows, mean), scale), get('bias')) as tf.Tensor2D;
  };
  const layers = decoderLayerCount(params);
  let rows = tf.reshape(x, [n, channels]) as tf.Tensor2D;
  for (let i = 0; i < layers; i++) {
    const p = layerPrefix(i);
    let y = hardSwish(
      batchNorm(linear(params, `${p}.${CONV.expand}.weight`, rows), `${p}.${CONV.expandBn}`),
    ) as tf.Tensor2D;
    const e = y.shape[1];
    const dw = depthwise3x3(
      tf.reshape(y, [b, h, w, e]),
      namedTensor(params, `${p}.${CONV.depthwise}.weight`, 'bottleneck decoder'),
    );
    y = batchNorm(tf.reshape(dw, [n, e]) as tf.Tensor2D, `${p}.${CONV.depthwiseBn}`);
    // squeeze-and-excitation: one scale per image and channel
    const pooled = tf.mean(tf.reshape(y, [b, h * w, e]), 1) as tf.Tensor2D;
    const scales = hardSigmoid(
      linear(params, `${p}.${CONV.se}.fc.2.weight`, tf.relu(linear(params, `${p}.${CONV.se}.fc.0.weight`, pooled))),
    );
    y = tf.reshape(hardSwish(tf.mul(tf.reshape(y, [b, h * w, e]), tf.reshape(scales, [b, 1, e]))), [
      n,
      e,
    ]) as tf.Tensor2D;
    y = batchNorm(linear(params, `${p}.${CONV.project}.weight`, y), `${p}.${CONV.projectBn}`);
    rows = tf.add(rows, y) as tf.Tensor2D;
  }
  const output = linear(params, 'recover.weight', rows);
  return { output: tf.reshape(output, [b, h, w, output.shape[1]]) as tf.Tensor4D, batchStatistics };
}

/**
 * PyTorch's running-statistics update after a training forward: running ← (1 − m)·running + m·batch,
 * the variance unbiased (· n/(n − 1)). Updates `state` in place.
 */
export function updateRunningStatistics(
  state: StateDict,
  statistics: Map<string, BatchStatistics<Float32Array>>,
  momentum: number = BATCH_NORM.momentum,
): void {
  for (const [prefix, s] of statistics) {
    const mean = namedWeight(state, `${prefix}.running_mean`, 'updateRunningStatistics').data;
    const variance = namedWeight(state, `${prefix}.running_var`, 'updateRunningStatistics').data;
    const unbiased = s.count > 1 ? s.count / (s.count - 1) : 1;
    for (let j = 0; j < mean.length; j++) {
      mean[j] = (1 - momentum) * mean[j] + momentum * s.mean[j];
      variance[j] = (1 - momentum) * variance[j] + momentum * s.variance[j] * unbiased;
    }
  }
}

/** The decoder in a graph, eval mode, NCHW: x [n, 2C, h, w] → [n, C, h, w]. */
export function lowerBottleneckDecoder(g: OnnxGraphBuilder, x: string, state: StateDict, name: string): string {
  const weight = (key: string, shape?: number[]) => {
    const t = namedWeight(state, key, 'lowerBottleneckDecoder');
    return g.initializer(`${name}.${key}`, t.data, shape ?? t.shape);
  };
  const batchNorm = (v: string, prefix: string) =>
    g.node(
      'BatchNormalization',
      [v, ...['weight', 'bias', 'running_mean', 'running_var'].map((k) => weight(`${prefix}.${k}`))],
      { epsilon: attr.float(BATCH_NORM.eps) },
    )[0];
  const hSigmoid = (v: string) => g.node('HardSigmoid', [v], { alpha: attr.float(1 / 6), beta: attr.float(0.5) })[0];
  const hSwish = (v: string) => g.node('Mul', [v, hSigmoid(v)])[0];
  const conv = (v: string, key: string, extra: Record<string, ReturnType<typeof attr.int>> = {}) =>
    g.node('Conv', [v, weight(key)], extra)[0];
  let rows = x;
  for (let i = 0; i < decoderLayerCount(state); i++) {
    const p = layerPrefix(i);
    let y = hSwish(batchNorm(conv(rows, `${p}.${CONV.expand}.weight`), `${p}.${CONV.expandBn}`));
    const e = namedWeight(state, `${p}.${CONV.depthwise}.weight`, 'lowerBottleneckDecoder').shape[0];
    y = batchNorm(
      conv(y, `${p}.${CONV.depthwise}.weight`, { group: attr.int(e), pads: attr.ints([1, 1, 1, 1]) }),
      `${p}.${CONV.depthwiseBn}`,
    );
    const squeeze = namedWeight(state, `${p}.${CONV.se}.fc.0.weight`, 'lowerBottleneckDecoder').shape[0];
    const pooled = g.node('GlobalAveragePool', [y])[0];
    const reduced = g.node('Relu', [
      g.node('Conv', [pooled, weight(`${p}.${CONV.se}.fc.0.weight`, [squeeze, e, 1, 1])])[0],
    ])[0];
    const scales = hSigmoid(g.node('Conv', [reduced, weight(`${p}.${CONV.se}.fc.2.weight`, [e, squeeze, 1, 1])])[0]);
    y = hSwish(g.node('Mul', [y, scales])[0]);
    y = batchNorm(conv(y, `${p}.${CONV.project}.weight`), `${p}.${CONV.projectBn}`);
    rows = g.node('Add', [rows, y])[0];
  }
  return conv(rows, 'recover.weight');
}
