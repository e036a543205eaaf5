/**
 * Folds eval-mode BatchNorm into the convolution before it, once at load time:
 * W' = W · γ/√(var+ε) (per output channel), b' = β + (b − mean) · γ/√(var+ε).
 * Inference then runs one op instead of two, on every engine.
 */
import type { ConvInfo } from '../architectures/param-spec';
import { requireWeight, type StateDict, type WeightTensor } from './state-dict';

export interface ConvWeights {
  /** OIHW (PyTorch and ONNX layout). */
  weight: WeightTensor;
  bias: Float32Array;
}

export function fuseConvBatchNorm(weights: StateDict, info: ConvInfo, eps: number): ConvWeights {
  const w = requireWeight(weights, `${info.conv}.weight`);
  const out = w.shape[0];
  const perOut = w.data.length / out;
  const convBias = info.spec.bias ? requireWeight(weights, `${info.conv}.bias`).data : new Float32Array(out);
  if (!info.bn) return { weight: w, bias: Float32Array.from(convBias) };
  const gamma = requireWeight(weights, `${info.bn}.weight`).data;
  const beta = requireWeight(weights, `${info.bn}.bias`).data;
  const mean = requireWeight(weights, `${info.bn}.running_mean`).data;
  const variance = requireWeight(weights, `${info.bn}.running_var`).data;
  const fused = new Float32Array(w.data.length);
  const bias = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    const scale = gamma[o] / Math.sqrt(variance[o] + eps);
    for (let i = 0; i < perOut; i++) fused[o * perOut + i] = w.data[o * perOut + i] * scale;
    bias[o] = beta[o] + (convBias[o] - mean[o]) * scale;
  }
  return { weight: { shape: w.shape, data: fused }, bias };
}
