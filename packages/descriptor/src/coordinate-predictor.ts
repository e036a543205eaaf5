/**
 * CRAD's coordinate predictors (Lee et al. 2024 §3.2; reference `models/reconstructions/crad.py`,
 * `coord_` and `coord`): features → where in the continuous memory to read.
 *
 * - global (`coord_`): the feature map average-pooled to one C-vector per image, then
 *   Linear(C, C) → tanh → Linear(C, 2) → tanh: one (x, y) per image for the global grid;
 * - local (`coord`): the same two layers as 1×1 convolutions at every position: one (x, y) per
 *   position for the local grid.
 *
 * The final tanh keeps coordinates in (−1, 1), the grid's extent (@cfa/memory-bank
 * continuous-memory.ts samples there). Parameters in the reference names and layouts
 * (`coord_.0.weight` [C, C], `coord.0.weight` [C, C, 1, 1], …).
 *
 * @example
 * ```ts
 * const state = initCoordinatePredictors({ channels: 216, seed: 0 });
 * const [global, local] = tf.tidy(() => [globalCoordinatesTf(params, features), localCoordinatesTf(params, features)]);
 * // global [B, 2], local [B, h, w, 2]: x (width axis) then y, as grid_sample reads them
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { attr, createRng, type OnnxGraphBuilder } from '@cfa/tensor-runtime';
import type { StateDict } from '@cfa/backbone';
import { constantWeight, namedTensor, namedWeight, normalWeight, type TensorLookup } from './named-params';

/** Module names in the reference: `coord_` (global, Linear) and `coord` (local, 1×1 Conv2d). */
export const COORDINATE_PREDICTORS = { global: 'coord_', local: 'coord' } as const;

/** Both predictors as the reference initialises them (weights N(0, 0.01²), biases 0), seeded. */
export function initCoordinatePredictors({ channels, seed }: { channels: number; seed: number }): StateDict {
  const rng = createRng(seed).fork('coordinate-predictors');
  const state: StateDict = new Map();
  for (const [name, kernel] of [
    [COORDINATE_PREDICTORS.global, []],
    [COORDINATE_PREDICTORS.local, [1, 1]],
  ] as const) {
    state.set(`${name}.0.weight`, normalWeight([channels, channels, ...kernel], 0.01, rng));
    state.set(`${name}.0.bias`, constantWeight([channels], 0));
    state.set(`${name}.2.weight`, normalWeight([2, channels, ...kernel], 0.01, rng));
    state.set(`${name}.2.bias`, constantWeight([2], 0));
  }
  return state;
}

/** tanh(tanh(x·W₀ᵀ + b₀)·W₂ᵀ + b₂) on rows x [n, C]: [n, 2]. */
function coordinateMlpTf(params: TensorLookup, prefix: string, x: tf.Tensor2D): tf.Tensor2D {
  const layer = (h: tf.Tensor2D, i: number) => {
    const w = namedTensor(params, `${prefix}.${i}.weight`, 'coordinate predictor');
    const b = namedTensor(params, `${prefix}.${i}.bias`, 'coordinate predictor');
    return tf.tanh(tf.add(tf.matMul(h, tf.reshape(w, [w.shape[0], w.shape[1]!]), false, true), b)) as tf.Tensor2D;
  };
  return layer(layer(x, 0), 2);
}

/** The global predictor on features [B, h, w, C] (NHWC): [B, 2]. */
export function globalCoordinatesTf(params: TensorLookup, features: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => coordinateMlpTf(params, COORDINATE_PREDICTORS.global, tf.mean(features, [1, 2]) as tf.Tensor2D));
}

/** The local predictor on features [B, h, w, C]: [B, h, w, 2]. */
export function localCoordinatesTf(params: TensorLookup, features: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = features.shape;
  return tf.tidy(() =>
    tf.reshape(coordinateMlpTf(params, COORDINATE_PREDICTORS.local, tf.reshape(features, [b * h * w, c])), [
      b,
      h,
      w,
      2,
    ]),
  );
}

/** The two predictors in a graph on NCHW features [n, C, h, w]: global [n, 2], local [n, 2, h, w]. */
export function lowerCoordinatePredictors(
  g: OnnxGraphBuilder,
  features: string,
  state: StateDict,
  name: string,
): { global: string; local: string } {
  const weight = (key: string) => {
    const t = namedWeight(state, key, 'lowerCoordinatePredictors');
    return g.initializer(`${name}.${key}`, t.data, t.shape);
  };
  const gemm = (x: string, i: number) =>
    g.node('Tanh', [
      g.node(
        'Gemm',
        [x, weight(`${COORDINATE_PREDICTORS.global}.${i}.weight`), weight(`${COORDINATE_PREDICTORS.global}.${i}.bias`)],
        {
          transB: attr.int(1),
        },
      )[0],
    ])[0];
  const pooled = g.node('Flatten', [g.node('GlobalAveragePool', [features])[0]], { axis: attr.int(1) })[0];
  const conv = (x: string, i: number) =>
    g.node('Tanh', [
      g.node('Conv', [
        x,
        weight(`${COORDINATE_PREDICTORS.local}.${i}.weight`),
        weight(`${COORDINATE_PREDICTORS.local}.${i}.bias`),
      ])[0],
    ])[0];
  return { global: gemm(gemm(pooled, 0), 2), local: conv(conv(features, 0), 2) };
}

/** What the training graph of the predictors computes, and its backward pass. */
export interface CoordinatePredictorsTrainGraph {
  /** [n, 2]. */
  global: string;
  /** [N, 2] rows, one per position (N = n·h·w, row-major per image). */
  localRows: string;
  /** Gradients of both predictors' parameters (by state-dict name) from d/d(global) and d/d(localRows). */
  backward(gradGlobal: string, gradLocalRows: string): Map<string, string>;
}

/**
 * Both predictors in a training graph, with their backward pass (tanh' = 1 − tanh²; the features
 * take no gradient): `featureRows` [N, C], `pooled` [n, C] (each image's mean feature), parameters
 * as graph values by state-dict name (`param`). The local predictor's 1×1 convolutions act on rows.
 */
export function lowerCoordinatePredictorsTrain(
  g: OnnxGraphBuilder,
  o: { featureRows: string; pooled: string; channels: number; param: (name: string) => string },
): CoordinatePredictorsTrainGraph {
  const { channels, param } = o;
  const one = g.scalar('one', 1);
  const matrix = (name: string, rows: number) => g.node('Reshape', [param(name), g.ints('shape', [rows, channels])])[0];
  const mlp = (prefix: string, x: string) => {
    const w0 = matrix(`${prefix}.0.weight`, channels);
    const w2 = matrix(`${prefix}.2.weight`, 2);
    const t1 = g.node('Tanh', [g.node('Gemm', [x, w0, param(`${prefix}.0.bias`)], { transB: attr.int(1) })[0]])[0];
    const out = g.node('Tanh', [g.node('Gemm', [t1, w2, param(`${prefix}.2.bias`)], { transB: attr.int(1) })[0]])[0];
    const backward = (gradOut: string, grads: Map<string, string>) => {
      const tanhGrad = (dy: string, y: string) =>
        g.node('Mul', [dy, g.node('Sub', [one, g.node('Mul', [y, y])[0]])[0]])[0];
      const shaped = (name: string, v: string) => g.node('Reshape', [v, g.node('Shape', [param(name)])[0]])[0];
      const da2 = tanhGrad(gradOut, out);
      grads.set(
        `${prefix}.2.weight`,
        shaped(`${prefix}.2.weight`, g.node('Gemm', [da2, t1], { transA: attr.int(1) })[0]),
      );
      grads.set(`${prefix}.2.bias`, g.node('ReduceSum', [da2, g.ints('axes', [0])], { keepdims: attr.int(0) })[0]);
      const da1 = tanhGrad(g.node('MatMul', [da2, w2])[0], t1);
      grads.set(
        `${prefix}.0.weight`,
        shaped(`${prefix}.0.weight`, g.node('Gemm', [da1, x], { transA: attr.int(1) })[0]),
      );
      grads.set(`${prefix}.0.bias`, g.node('ReduceSum', [da1, g.ints('axes', [0])], { keepdims: attr.int(0) })[0]);
    };
    return { out, backward };
  };
  const global = mlp(COORDINATE_PREDICTORS.global, o.pooled);
  const local = mlp(COORDINATE_PREDICTORS.local, o.featureRows);
  return {
    global: global.out,
    localRows: local.out,
    backward(gradGlobal, gradLocalRows) {
      const grads = new Map<string, string>();
      global.backward(gradGlobal, grads);
      local.backward(gradLocalRows, grads);
      return grads;
    },
  };
}
