/**
 * The ImageNet normalisation of `preprocess.ts` (cfa-spec.md, "Data": mean 0.485/0.456/0.406, std
 * 0.229/0.224/0.225) as ONNX nodes, so that an exported model takes plain RGB in [0, 1] and
 * normalises inside its graph with the same constants as `normalizeImageNet`.
 *
 * @example
 * ```ts
 * const g = new OnnxGraphBuilder('model');
 * const nchw = nhwcInputToNchw(g, 'image', 224);          // @cfa/backbone: [N, 3, 224, 224], RGB in [0, 1]
 * const normalised = lowerImageNetNormalization(g, nchw); // (x − mean) / std per channel
 * ```
 */
import type { OnnxGraphBuilder } from '@cfa/tensor-runtime';
import { IMAGENET_MEAN, IMAGENET_STD } from './preprocess';

/** (x − mean) / std on an NCHW [N, 3, H, W] value; returns the normalised value's name. */
export function lowerImageNetNormalization(g: OnnxGraphBuilder, nchw: string): string {
  const perChannel = (prefix: string, values: readonly number[]) =>
    g.initializer(g.fresh(prefix), Float32Array.from(values), [1, 3, 1, 1]);
  const centred = g.node('Sub', [nchw, perChannel('imagenet_mean', IMAGENET_MEAN)])[0];
  return g.node('Div', [centred, perChannel('imagenet_std', IMAGENET_STD)])[0];
}
