/**
 * The CoordConv as ONNX graph pieces, shared by the forward runner, the weight-gradient runner and
 * any fused graph that needs φ or ∂loss/∂W without bringing φ back to JavaScript (the cfa trainer's
 * one-run training step). Weights and bias are graph inputs because they train.
 *
 *   φ       = X · W[:D] + (coords · W[D:] + b)     (coords are the same for every image)
 *   ∂W[:D]  = Xᵀ · G,  ∂W[D:] = coordsᵀ · Σ_b G_b,  ∂b = Σ_P G
 *
 * @example
 * ```ts
 * const g = new OnnxGraphBuilder('descriptor');
 * const shape = { hw: 3136, inChannels: 448, coordChannels: 2, outChannels: 448 };
 * const phi = lowerCoordConvForward(g, g.input('x', [3136, 448]), coordConvWeightInputs(g, shape), coordinatesInitializer(g, 56, 56, 2), 'image');
 * // feeds: { x, ...coordConvWeightFeeds(params.weight, params.bias, shape) }
 * ```
 */
import { attr, type OnnxGraphBuilder } from '@cfa/tensor-runtime';
import { coordinateChannels } from './coord-conv';

export interface CoordConvShape {
  hw: number;
  inChannels: number;
  coordChannels: number;
  outChannels: number;
}

/** Graph values of the CoordConv's parameters: W split at row D (zero-copy subarrays when fed). */
export interface CoordConvWeights {
  /** W[:D], [D, D′]. */
  weightX: string;
  /** W[D:], [c, D′] (the coordinate rows). */
  weightC: string;
  /** b, [D′]. */
  bias: string;
}

/** The [HW, c] coordinate channels as a graph constant. */
export function coordinatesInitializer(g: OnnxGraphBuilder, height: number, width: number, coordChannels: number): string {
  return g.initializer(g.fresh('coords'), coordinateChannels(height, width, coordChannels === 3), [height * width, coordChannels]);
}

/** Graph inputs for W (as its two parts) and b, named weight_x, weight_c, bias. */
export function coordConvWeightInputs(g: OnnxGraphBuilder, shape: CoordConvShape): CoordConvWeights {
  return {
    weightX: g.input('weight_x', [shape.inChannels, shape.outChannels]),
    weightC: g.input('weight_c', [shape.coordChannels, shape.outChannels]),
    bias: g.input('bias', [shape.outChannels]),
  };
}

/** The feeds of `coordConvWeightInputs` from a [D + c, D′] weight: views, not copies. */
export function coordConvWeightFeeds(weight: Float32Array, bias: Float32Array, shape: CoordConvShape) {
  const { inChannels: d, coordChannels: c, outChannels: dOut } = shape;
  return {
    weight_x: { data: weight.subarray(0, d * dOut), dims: [d, dOut] },
    weight_c: { data: weight.subarray(d * dOut, (d + c) * dOut), dims: [c, dOut] },
    bias: { data: bias, dims: [dOut] },
  };
}

/**
 * φ of x. `image`: x is one image [HW, D] and the coordinate term rides in the Gemm's C (no extra
 * pass over φ); `batch`: x is [B, HW, D] (MatMul, then the [HW, D′] coordinate term broadcast).
 */
export function lowerCoordConvForward(g: OnnxGraphBuilder, x: string, weights: CoordConvWeights, coords: string, layout: 'image' | 'batch'): string {
  const coordTerm = g.node('Gemm', [coords, weights.weightC, weights.bias])[0]; // [HW, D′]
  if (layout === 'image') return g.node('Gemm', [x, weights.weightX, coordTerm])[0];
  return g.node('Add', [g.node('MatMul', [x, weights.weightX])[0], coordTerm])[0];
}

/** [∂W, ∂b] from x [P, D] and G [P, D′], P a whole number of images of HW patches. */
export function lowerCoordConvWeightGradient(g: OnnxGraphBuilder, x: string, grad: string, coords: string, shape: CoordConvShape): [string, string] {
  const { hw, outChannels: dOut } = shape;
  // Gemm with transA reads X in place; MatMul(Transpose(X), G) would copy X first
  const dWx = g.node('Gemm', [x, grad], { transA: attr.int(1) })[0];
  const perLocation = g.node('ReduceSum', [g.node('Reshape', [grad, g.ints('shape', [-1, hw, dOut])])[0], g.ints('axes', [0])], { keepdims: attr.int(0) })[0];
  const dWc = g.node('Gemm', [coords, perLocation], { transA: attr.int(1) })[0];
  const gradWeight = g.node('Concat', [dWx, dWc], { axis: attr.int(0) })[0];
  const gradBias = g.node('ReduceSum', [perLocation, g.ints('axes', [0])], { keepdims: attr.int(0) })[0];
  return [gradWeight, gradBias];
}
