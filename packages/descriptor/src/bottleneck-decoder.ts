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

export interface DecoderTrainGraph {
  /** The reconstruction as rows [N, C]. */
  output: string;
  /** Each BatchNorm's batch mean and biased variance [channels], by prefix (graph values). */
  statistics: Map<string, { mean: string; variance: string }>;
  /** Gradients of the input rows and of every weight (by state-dict name) from d/d(output). */
  backward(gradOutput: string): { input: string; params: Map<string, string> };
}

/**
 * The decoder in a training graph (BatchNorm on batch statistics), with its backward pass written
 * out: rows [N, 2C] in (N = n·h·w positions, row-major per image), parameters as graph values by
 * state-dict name (`param`). Per bottleneck, in reverse: BatchNorm's
 * ∂x = γ/σ · (∂y − mean ∂y − x̂ · mean(∂y·x̂)), h-swish′(x) = h-sigmoid(x) + x/6 on (−3, 3), the
 * squeeze-and-excitation's scale and mean, the depthwise convolution's input gradient (the same
 * convolution with its kernels rotated 180°) and kernel gradient (Σ ∂y · shifted input, nine shifts),
 * the 1×1 convolutions as matrix products.
 */
export function lowerBottleneckDecoderTrain(
  g: OnnxGraphBuilder,
  o: {
    input: string;
    /** The graph value holding a parameter (fed each step). */
    param: (name: string) => string;
    /** The state dict the parameters come from: their shapes and the layer count. */
    state: StateDict;
    height: number;
    width: number;
  },
): DecoderTrainGraph {
  const { param, state, height: h, width: w } = o;
  const shapeOf = (name: string) => namedWeight(state, name, 'lowerBottleneckDecoderTrain').shape;
  const sixth = g.scalar('sixth', 1 / 6);
  const rowAxis = () => g.ints('axes', [0]);
  const statistics = new Map<string, { mean: string; variance: string }>();
  const backwards: ((grad: string, grads: Map<string, string>) => string)[] = [];
  const matrix = (name: string) => g.node('Reshape', [param(name), g.ints('shape', shapeOf(name).slice(0, 2))])[0];
  const shaped = (name: string, v: string) => g.node('Reshape', [v, g.ints('shape', shapeOf(name))])[0];
  const mean0 = (v: string) => g.node('ReduceMean', [v], { axes: attr.ints([0]), keepdims: attr.int(1) })[0];
  const sum0 = (v: string) => g.node('ReduceSum', [v, rowAxis()], { keepdims: attr.int(0) })[0];
  const hSigmoid = (v: string) => g.node('HardSigmoid', [v], { alpha: attr.float(1 / 6), beta: attr.float(0.5) })[0];
  // h-swish′(x) = h-sigmoid(x) + x/6 · [−3 < x < 3]
  const hSwishGrad = (dy: string, x: string) => {
    const inside = g.node('Cast', [g.node('Less', [g.node('Abs', [x])[0], g.scalar('three', 3)])[0]], {
      to: attr.int(1),
    })[0];
    const slope = g.node('Add', [hSigmoid(x), g.node('Mul', [g.node('Mul', [x, sixth])[0], inside])[0]])[0];
    return g.node('Mul', [dy, slope])[0];
  };
  /** y = x̂γ + β with batch statistics over the rows; returns y and its backward. */
  const batchNorm = (x: string, prefix: string) => {
    const mean = mean0(x);
    const centered = g.node('Sub', [x, mean])[0];
    const variance = mean0(g.node('Mul', [centered, centered])[0]);
    const invStd = g.node('Reciprocal', [
      g.node('Sqrt', [g.node('Add', [variance, g.scalar('eps', BATCH_NORM.eps)])[0]])[0],
    ])[0];
    const xHat = g.node('Mul', [centered, invStd])[0];
    const gamma = param(`${prefix}.weight`);
    statistics.set(prefix, {
      mean: g.node('Squeeze', [mean, rowAxis()])[0],
      variance: g.node('Squeeze', [variance, rowAxis()])[0],
    });
    const y = g.node('Add', [g.node('Mul', [xHat, gamma])[0], param(`${prefix}.bias`)])[0];
    const backward = (dy: string, grads: Map<string, string>) => {
      grads.set(`${prefix}.weight`, sum0(g.node('Mul', [dy, xHat])[0]));
      grads.set(`${prefix}.bias`, sum0(dy));
      const inner = g.node('Sub', [
        g.node('Sub', [dy, mean0(dy)])[0],
        g.node('Mul', [xHat, mean0(g.node('Mul', [dy, xHat])[0])])[0],
      ])[0];
      return g.node('Mul', [inner, g.node('Mul', [gamma, invStd])[0]])[0];
    };
    return { y, backward };
  };
  // rows [N, E] ↔ NCHW [n, E, h, w]
  const toMaps = (v: string, e: number) =>
    g.node('Transpose', [g.node('Reshape', [v, g.ints('shape', [-1, h, w, e])])[0]], {
      perm: attr.ints([0, 3, 1, 2]),
    })[0];
  const toRows = (v: string, e: number) =>
    g.node('Reshape', [g.node('Transpose', [v], { perm: attr.ints([0, 2, 3, 1]) })[0], g.ints('shape', [-1, e])])[0];

  let rows = o.input;
  for (let i = 0; i < decoderLayerCount(state); i++) {
    const p = layerPrefix(i);
    const x = rows;
    const w1 = matrix(`${p}.${CONV.expand}.weight`); // [E, 2C]
    const a = g.node('Gemm', [x, w1], { transB: attr.int(1) })[0];
    const bn1 = batchNorm(a, `${p}.${CONV.expandBn}`);
    const h1 = g.node('Mul', [bn1.y, hSigmoid(bn1.y)])[0];
    const dwWeight = param(`${p}.${CONV.depthwise}.weight`); // [E, 1, 3, 3]
    const e = shapeOf(`${p}.${CONV.depthwise}.weight`)[0];
    const h1Maps = toMaps(h1, e);
    const dw = toRows(g.node('Conv', [h1Maps, dwWeight], { group: attr.int(e), pads: attr.ints([1, 1, 1, 1]) })[0], e);
    const bn2 = batchNorm(dw, `${p}.${CONV.depthwiseBn}`);
    // squeeze-and-excitation on [n, h·w, E]
    const perImage = (v: string) => g.node('Reshape', [v, g.ints('shape', [-1, h * w, e])])[0];
    const pooled = g.node('ReduceMean', [perImage(bn2.y)], { axes: attr.ints([1]), keepdims: attr.int(0) })[0]; // [n, E]
    const se1 = param(`${p}.${CONV.se}.fc.0.weight`);
    const se2 = param(`${p}.${CONV.se}.fc.2.weight`);
    const z1 = g.node('Gemm', [pooled, se1], { transB: attr.int(1) })[0];
    const r1 = g.node('Relu', [z1])[0];
    const z2 = g.node('Gemm', [r1, se2], { transB: attr.int(1) })[0];
    const scale = hSigmoid(z2); // [n, E]
    const scaled = g.node('Reshape', [
      g.node('Mul', [perImage(bn2.y), g.node('Unsqueeze', [scale, g.ints('axes', [1])])[0]])[0],
      g.ints('shape', [-1, e]),
    ])[0];
    const h2 = g.node('Mul', [scaled, hSigmoid(scaled)])[0];
    const w3 = matrix(`${p}.${CONV.project}.weight`); // [2C, E]
    const bn3 = batchNorm(g.node('Gemm', [h2, w3], { transB: attr.int(1) })[0], `${p}.${CONV.projectBn}`);
    rows = g.node('Add', [x, bn3.y])[0];
    backwards.push((gradOut, grads) => {
      const dP = bn3.backward(gradOut, grads);
      grads.set(
        `${p}.${CONV.project}.weight`,
        shaped(`${p}.${CONV.project}.weight`, g.node('Gemm', [dP, h2], { transA: attr.int(1) })[0]),
      );
      const dScaled = hSwishGrad(g.node('MatMul', [dP, w3])[0], scaled);
      // scaled = bn2·scale: ∂bn2 = ∂scaled·scale + (the mean's share of ∂pooled); ∂scale = Σ_hw ∂scaled·bn2
      const dScale = g.node(
        'ReduceSum',
        [g.node('Mul', [perImage(dScaled), perImage(bn2.y)])[0], g.ints('axes', [1])],
        {
          keepdims: attr.int(0),
        },
      )[0];
      const hSigmoidSlope = g.node('Mul', [
        g.node('Cast', [g.node('Less', [g.node('Abs', [z2])[0], g.scalar('three', 3)])[0]], { to: attr.int(1) })[0],
        sixth,
      ])[0];
      const dZ2 = g.node('Mul', [dScale, hSigmoidSlope])[0];
      grads.set(`${p}.${CONV.se}.fc.2.weight`, g.node('Gemm', [dZ2, r1], { transA: attr.int(1) })[0]);
      const dZ1 = g.node('Mul', [
        g.node('MatMul', [dZ2, se2])[0],
        g.node('Cast', [g.node('Greater', [z1, g.scalar('zero', 0)])[0]], { to: attr.int(1) })[0],
      ])[0];
      grads.set(`${p}.${CONV.se}.fc.0.weight`, g.node('Gemm', [dZ1, pooled], { transA: attr.int(1) })[0]);
      const dPooled = g.node('Div', [g.node('MatMul', [dZ1, se1])[0], g.scalar('hw', h * w)])[0]; // [n, E]
      const dBn2 = g.node('Reshape', [
        g.node('Add', [
          g.node('Mul', [perImage(dScaled), g.node('Unsqueeze', [scale, g.ints('axes', [1])])[0]])[0],
          g.node('Unsqueeze', [dPooled, g.ints('axes', [1])])[0],
        ])[0],
        g.ints('shape', [-1, e]),
      ])[0];
      const dDw = toMaps(bn2.backward(dBn2, grads), e);
      // input gradient: the same depthwise convolution with each 3×3 kernel rotated by 180°
      const rotated = g.node(
        'Gather',
        [g.node('Gather', [dwWeight, g.ints('flip', [2, 1, 0])], { axis: attr.int(2) })[0], g.ints('flip', [2, 1, 0])],
        { axis: attr.int(3) },
      )[0];
      const dH1 = toRows(g.node('Conv', [dDw, rotated], { group: attr.int(e), pads: attr.ints([1, 1, 1, 1]) })[0], e);
      // kernel gradient: Σ over images and positions of ∂y times the input shifted by each tap
      const padded = g.node('Pad', [h1Maps, g.ints('pads', [0, 0, 1, 1, 0, 0, 1, 1])])[0];
      const taps: string[] = [];
      for (let ky = 0; ky < 3; ky++)
        for (let kx = 0; kx < 3; kx++) {
          const shifted = g.node('Slice', [
            padded,
            g.ints('start', [ky, kx]),
            g.ints('end', [ky + h, kx + w]),
            g.ints('axes', [2, 3]),
          ])[0];
          taps.push(
            g.node('ReduceSum', [g.node('Mul', [dDw, shifted])[0], g.ints('axes', [0, 2, 3])], {
              keepdims: attr.int(0),
            })[0],
          );
        }
      grads.set(
        `${p}.${CONV.depthwise}.weight`,
        g.node('Reshape', [
          g.node(
            'Concat',
            taps.map((t) => g.node('Unsqueeze', [t, g.ints('axes', [1])])[0]),
            { axis: attr.int(1) },
          )[0],
          g.ints('shape', [e, 1, 3, 3]),
        ])[0],
      );
      const dA = bn1.backward(hSwishGrad(dH1, bn1.y), grads);
      grads.set(
        `${p}.${CONV.expand}.weight`,
        shaped(`${p}.${CONV.expand}.weight`, g.node('Gemm', [dA, x], { transA: attr.int(1) })[0]),
      );
      return g.node('Add', [gradOut, g.node('MatMul', [dA, w1])[0]])[0];
    });
  }
  const recover = matrix('recover.weight'); // [C, 2C]
  const output = g.node('Gemm', [rows, recover], { transB: attr.int(1) })[0];
  const last = rows;
  return {
    output,
    statistics,
    backward(gradOutput) {
      const grads = new Map<string, string>();
      grads.set(
        'recover.weight',
        shaped('recover.weight', g.node('Gemm', [gradOutput, last], { transA: attr.int(1) })[0]),
      );
      let grad = g.node('MatMul', [gradOutput, recover])[0];
      for (let i = backwards.length - 1; i >= 0; i--) grad = backwards[i](grad, grads);
      return { input: grad, params: grads };
    },
  };
}
