/**
 * Trainable networks given as named tensors (a state dict in the reference module's names and
 * PyTorch layouts): the typed-array form that is initialised, stored in bundles and updated by the
 * optimiser, and the tfjs form the differentiable forward passes read. Keeping the reference
 * module's names means its `state_dict()` (and its gradients) compare entry by entry.
 *
 * The initialisation UniAD's and CRAD's `models/initializer.py` applies when the config names none
 * (`initialize(model, "normal", std=0.01)`): every Conv2d / Linear weight N(0, 0.01²), biases zero,
 * BatchNorm weight 1 and bias 0; the running statistics start as PyTorch's (mean 0, variance 1).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { StateDict, WeightTensor } from '@cfa/backbone';
import type { Rng } from '@cfa/tensor-runtime';

/** The tfjs tensors of a state dict, by name (the parameters a gradient is taken with respect to). */
export type TensorLookup = ReadonlyMap<string, tf.Tensor>;

/** The tensor `name`, or an error naming it and the piece that wanted it. */
export function namedTensor(params: TensorLookup, name: string, context: string): tf.Tensor {
  const t = params.get(name);
  if (!t) throw new Error(`${context}: no parameter '${name}' among ${params.size}`);
  return t;
}

/** The typed-array entry `name`, or an error naming it. */
export function namedWeight(state: StateDict, name: string, context: string): WeightTensor {
  const t = state.get(name);
  if (!t) throw new Error(`${context}: no parameter '${name}' among ${state.size}`);
  return t;
}

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** N(0, std²) draws (the reference's `init_weights_normal`). */
export function normalWeight(shape: number[], std: number, rng: Rng): WeightTensor {
  return { shape, data: Float32Array.from({ length: count(shape) }, () => std * rng.normal()) };
}

export function constantWeight(shape: number[], value: number): WeightTensor {
  return { shape, data: new Float32Array(count(shape)).fill(value) };
}

/** `nn.BatchNorm2d(channels)` after `initialize`: weight 1, bias 0, running mean 0, variance 1. */
export function batchNormEntries(prefix: string, channels: number): [string, WeightTensor][] {
  return [
    [`${prefix}.weight`, constantWeight([channels], 1)],
    [`${prefix}.bias`, constantWeight([channels], 0)],
    [`${prefix}.running_mean`, constantWeight([channels], 0)],
    [`${prefix}.running_var`, constantWeight([channels], 1)],
  ];
}

/** Whether a state-dict entry is a BatchNorm running statistic (kept, never given a gradient). */
export function isRunningStatistic(name: string): boolean {
  return name.endsWith('.running_mean') || name.endsWith('.running_var');
}
