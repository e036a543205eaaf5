/**
 * Lowers a backbone definition to ONNX nodes (NCHW, BatchNorm already fused into the convs), into
 * a graph that a caller is building — the descriptor package appends its patch embedding to the
 * same graph so one ONNX Runtime session computes image → patch features.
 *
 * @example
 * ```ts
 * const g = new OnnxGraphBuilder('resnet18');
 * const x = g.input('images', ['n', 3, 224, 224]);
 * const maps = lowerBackboneToOnnx(g, model, x); // NCHW value names, definition order
 * ```
 */
import { attr, type OnnxGraphBuilder } from '@cfa/tensor-runtime';
import type { BackboneModel } from '../backbone-model';
import { type ConvSpec, type NetBuilder, paddingPair, type PoolSpec } from '../architectures/net-builder';

export function lowerBackboneToOnnx(g: OnnxGraphBuilder, model: BackboneModel, inputNchw: string): string[] {
  const builder: NetBuilder<string> = {
    convBn(conv: string, _bn: string | null, x: string, spec: ConvSpec): string {
      const fused = model.fused.get(conv)!;
      const w = g.initializer(`${conv}.weight`, fused.weight.data, fused.weight.shape);
      const b = g.initializer(`${conv}.bias`, fused.bias, [fused.bias.length]);
      const [begin, end] = paddingPair(spec.padding);
      const s = spec.stride ?? 1;
      return g.node('Conv', [x, w, b], {
        kernel_shape: attr.ints([spec.kernel, spec.kernel]),
        strides: attr.ints([s, s]),
        // ONNX order: [h_begin, w_begin, h_end, w_end]
        pads: attr.ints([begin, begin, end, end]),
        group: attr.int(spec.groups ?? 1),
      })[0];
    },
    relu: (x) => g.node('Relu', [x])[0],
    leakyRelu: (x, slope) => g.node('LeakyRelu', [x], { alpha: attr.float(slope) })[0],
    maxPool: (x: string, spec: PoolSpec) =>
      g.node('MaxPool', [x], {
        kernel_shape: attr.ints([spec.kernel, spec.kernel]),
        strides: attr.ints([spec.stride, spec.stride]),
        pads: attr.ints([spec.padding, spec.padding, spec.padding, spec.padding]),
      })[0],
    add: (a, b) => g.node('Add', [a, b])[0],
    silu: (x) => g.node('Mul', [x, g.node('Sigmoid', [x])[0]])[0],
    sigmoid: (x) => g.node('Sigmoid', [x])[0],
    globalAvgPool: (x) => g.node('GlobalAveragePool', [x])[0],
    mul: (a, b) => g.node('Mul', [a, b])[0],
    concat: (xs) => (xs.length === 1 ? xs[0] : g.node('Concat', xs, { axis: attr.int(1) })[0]),
  };
  return model.definition.forward(builder, inputNchw);
}
