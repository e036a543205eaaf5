/**
 * torchvision VGG-19 and VGG-19-BN (torchvision/models/vgg.py, configuration "E"), tapped where
 * the CFA reference code taps `vgg19_bn` (cnn/vgg.py: `features` indices 25, 38, 52): after the
 * last ReLU of block 3 (256 ch, stride 4), of block 4 (512 ch, stride 8), and after the final
 * max-pool (512 ch, stride 32) — channel sum 1280. For plain VGG-19 the same places are indices
 * 17, 26, 36. Parameter names are torchvision's `features.<index>.*`.
 *
 * @example
 * ```ts
 * inferFeatureShapes(vggDefinition({ batchNorm: true }), 224).map((f) => f.name); // ['features.25', 'features.38', 'features.52']
 * ```
 */
import { type BackboneDefinition, type NetBuilder, PLAIN_EMBEDDING, type Taps } from './net-builder';

const CONFIG_E: (number | 'M')[] = [
  64,
  64,
  'M',
  128,
  128,
  'M',
  256,
  256,
  256,
  256,
  'M',
  512,
  512,
  512,
  512,
  'M',
  512,
  512,
  512,
  512,
  'M',
];

export interface VggOptions {
  batchNorm: boolean;
  /**
   * The reference code's `cnn/vgg.py` taps torchvision's `features` at 25, 38, 52 (with BatchNorm),
   * post-ReLU and post-max-pool as torchvision computes them: both variants are the same network.
   */
  taps?: Taps;
  /** Divides every channel count (tests only; torchvision is 1). */
  widthDivisor?: number;
}

/** torchvision's Sequential indices of the three taps, computed from the layer list. */
function tapIndices(batchNorm: boolean): number[] {
  const perConv = batchNorm ? 3 : 2;
  const taps: number[] = [];
  let index = 0;
  let block = 1;
  CONFIG_E.forEach((v, i) => {
    if (v === 'M') {
      if (block === 5) taps.push(index);
      index += 1;
      block += 1;
      return;
    }
    index += perConv;
    const lastOfBlock = CONFIG_E[i + 1] === 'M';
    if (lastOfBlock && (block === 3 || block === 4)) taps.push(index - 1);
  });
  return taps;
}

export function vggDefinition(options: VggOptions): BackboneDefinition {
  const { batchNorm } = options;
  const divisor = options.widthDivisor ?? 1;
  const tapAt = tapIndices(batchNorm);
  return {
    name: batchNorm ? 'vgg19_bn' : 'vgg19',
    taps: options.taps ?? 'reference',
    featureNames: tapAt.map((t) => `features.${t}`),
    unusedPrefixes: ['classifier.'],
    bnEps: 1e-5,
    embedding: PLAIN_EMBEDDING,
    forward<T>(b: NetBuilder<T>, input: T): T[] {
      let x = input;
      let index = 0;
      let inChannels = 3;
      const features: T[] = [];
      for (const v of CONFIG_E) {
        if (v === 'M') {
          x = b.maxPool(x, { kernel: 2, stride: 2, padding: 0 });
          if (tapAt.includes(index)) features.push(x);
          index += 1;
          continue;
        }
        const out = v / divisor;
        x = b.convBn(`features.${index}`, batchNorm ? `features.${index + 1}` : null, x, {
          inChannels,
          outChannels: out,
          kernel: 3,
          padding: 1,
          bias: true,
        });
        x = b.relu(x);
        index += batchNorm ? 3 : 2;
        inChannels = out;
        if (tapAt.includes(index - 1)) features.push(x);
        if (features.length === tapAt.length) break;
      }
      return features;
    },
  };
}

export const vgg19Definition = (options: Omit<VggOptions, 'batchNorm'> = {}) =>
  vggDefinition({ batchNorm: false, ...options });
export const vgg19BnDefinition = (options: Omit<VggOptions, 'batchNorm'> = {}) =>
  vggDefinition({ batchNorm: true, ...options });
