/**
 * torchvision EfficientNet-B5 (torchvision/models/efficientnet.py; width 1.6, depth 2.2, BatchNorm
 * ε 1e-3, SiLU, squeeze-and-excitation), with torchvision's parameter names — we follow
 * torchvision's `efficientnet_b5`, not timm's `tf_efficientnet_b5` (which pads "same" like
 * TensorFlow), so that its weight files load unchanged.
 *
 * Feature maps as the CFA reference code builds them (cnn/efficientnet.py `extract_endpoints`):
 * at stride 4 the outputs of the last 5 blocks of the 40-channel stage, concatenated (200 ch);
 * at stride 8 the last 3 blocks of the 64-channel stage (192 ch); at stride 16 the last block of
 * the 176-channel stage (176 ch) — channel sum 568. The reference then divides each map by its
 * channel count and gives φ 2·D/γd outputs (`embedding` below).
 *
 * @example
 * ```ts
 * inferFeatureShapes(efficientNetB5Definition(), 224).map((f) => f.channels); // [200, 192, 176]
 * ```
 */
import type { BackboneDefinition, NetBuilder } from './net-builder';

/** torchvision's `_make_divisible`. */
export function makeDivisible(value: number, divisor = 8): number {
  let next = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  if (next < 0.9 * value) next += divisor;
  return next;
}

/** B0 stages: expand ratio, kernel, stride, input channels, output channels, blocks. */
const B0_STAGES: [number, number, number, number, number, number][] = [
  [1, 3, 1, 32, 16, 1],
  [6, 3, 2, 16, 24, 2],
  [6, 5, 2, 24, 40, 2],
  [6, 3, 2, 40, 80, 3],
  [6, 5, 1, 80, 112, 3],
  [6, 5, 2, 112, 192, 4],
  [6, 3, 1, 192, 320, 1],
];

/** Stage (1-based, as `features.<stage>`) and how many of its last block outputs each tap concatenates. */
const TAPS: { stage: number; last: number }[] = [
  { stage: 2, last: 5 },
  { stage: 3, last: 3 },
  { stage: 5, last: 1 },
];

export interface EfficientNetOptions {
  /** torchvision B5: 1.6. Smaller values give narrow copies for tests. */
  widthMult?: number;
  depthMult?: number;
}

function mbConv<T>(
  b: NetBuilder<T>,
  prefix: string,
  x: T,
  input: number,
  out: number,
  expandRatio: number,
  kernel: number,
  stride: number,
): T {
  const expanded = makeDivisible(input * expandRatio);
  let h = x;
  let i = 0;
  if (expanded !== input) {
    h = b.silu(
      b.convBn(`${prefix}.block.${i}.0`, `${prefix}.block.${i}.1`, h, {
        inChannels: input,
        outChannels: expanded,
        kernel: 1,
      }),
    );
    i++;
  }
  h = b.silu(
    b.convBn(`${prefix}.block.${i}.0`, `${prefix}.block.${i}.1`, h, {
      inChannels: expanded,
      outChannels: expanded,
      kernel,
      stride,
      padding: (kernel - 1) / 2,
      groups: expanded,
    }),
  );
  i++;
  const squeeze = Math.max(1, Math.floor(input / 4));
  let scale = b.convBn(`${prefix}.block.${i}.fc1`, null, b.globalAvgPool(h), {
    inChannels: expanded,
    outChannels: squeeze,
    kernel: 1,
    bias: true,
  });
  scale = b.sigmoid(
    b.convBn(`${prefix}.block.${i}.fc2`, null, b.silu(scale), {
      inChannels: squeeze,
      outChannels: expanded,
      kernel: 1,
      bias: true,
    }),
  );
  h = b.mul(h, scale);
  i++;
  h = b.convBn(`${prefix}.block.${i}.0`, `${prefix}.block.${i}.1`, h, {
    inChannels: expanded,
    outChannels: out,
    kernel: 1,
  });
  return stride === 1 && input === out ? b.add(h, x) : h;
}

export function efficientNetB5Definition(options: EfficientNetOptions = {}): BackboneDefinition {
  const width = options.widthMult ?? 1.6;
  const depth = options.depthMult ?? 2.2;
  const lastStage = Math.max(...TAPS.map((t) => t.stage));
  return {
    name: 'efficientnet_b5',
    featureNames: TAPS.map((t) => `features.${t.stage}`),
    unusedPrefixes: ['features.6.', 'features.7.', 'features.8.', 'classifier.'],
    bnEps: 1e-3,
    embedding: { scaleByChannels: true, outMultiplier: 2 },
    forward<T>(b: NetBuilder<T>, input: T): T[] {
      const stem = makeDivisible(32 * width);
      let x = b.silu(
        b.convBn('features.0.0', 'features.0.1', input, {
          inChannels: 3,
          outChannels: stem,
          kernel: 3,
          stride: 2,
          padding: 1,
        }),
      );
      const features: T[] = [];
      for (let s = 1; s <= lastStage; s++) {
        const [expand, kernel, stride, inBase, outBase, blocksBase] = B0_STAGES[s - 1];
        const blocks = Math.ceil(blocksBase * depth);
        const out = makeDivisible(outBase * width);
        let inChannels = makeDivisible(inBase * width);
        const outputs: T[] = [];
        for (let j = 0; j < blocks; j++) {
          x = mbConv(b, `features.${s}.${j}`, x, inChannels, out, expand, kernel, j === 0 ? stride : 1);
          inChannels = out;
          outputs.push(x);
        }
        const tap = TAPS.find((t) => t.stage === s);
        if (tap) features.push(b.concat(outputs.slice(-tap.last)));
      }
      return features;
    },
  };
}
