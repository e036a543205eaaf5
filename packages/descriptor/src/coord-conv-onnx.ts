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
 * const phi = lowerCoordConvForward(g, g.input('x', ['p', 448]), g.input('weight', [450, 448]), g.input('bias', [448]), coordsName, shape);
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

/** The [HW, c] coordinate channels as a graph constant. */
export function coordinatesInitializer(g: OnnxGraphBuilder, height: number, width: number, coordChannels: number): string {
  return g.initializer(g.fresh('coords'), coordinateChannels(height, width, coordChannels === 3), [height * width, coordChannels]);
}

/** φ for x [..., HW, D] (any leading batch dims whose last two are HW, D, or [HW, D] itself). */
export function lowerCoordConvForward(g: OnnxGraphBuilder, x: string, weight: string, bias: string, coords: string, shape: CoordConvShape): string {
  const { inChannels: d, coordChannels: c } = shape;
  const wx = g.node('Slice', [weight, g.ints('s', [0]), g.ints('e', [d]), g.ints('a', [0])])[0];
  const wc = g.node('Slice', [weight, g.ints('s', [d]), g.ints('e', [d + c]), g.ints('a', [0])])[0];
  const coordTerm = g.node('Add', [g.node('MatMul', [coords, wc])[0], bias])[0];
  return g.node('Add', [g.node('MatMul', [x, wx])[0], coordTerm])[0];
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
