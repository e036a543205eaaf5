/**
 * EfficientNet-B4 and -B5 (BatchNorm ε 1e-3 in EfficientNet-PyTorch, SiLU, squeeze-and-excitation)
 * in the two variants `taps` selects — the same blocks and channel counts, different padding and
 * names:
 *
 * - `reference`: EfficientNet-PyTorch (lukemelas), the package both reference codes vendor — the CFA
 *   reference code's `cnn/efficientnet.py` (B5, weights `efficientnet-b5-b6417697.pth`) and the
 *   CRAD reference code's `models/backbones/efficientnet/` (B4, UniAD's copy). Every convolution
 *   pads "same" like TensorFlow, and statically: the amounts are computed once for the model's
 *   nominal input (`efficientnet_params`: B4 380, B5 456 pixels) and applied whatever the real
 *   input size. For a stride-2 convolution that gives asymmetric padding (B5's stem `[0, 1]`, its
 *   40-channel stage's 5×5 `[1, 2]`), unlike torchvision. Parameter names are that package's
 *   (`_conv_stem`, `_blocks.<i>._depthwise_conv`, …).
 * - `torchvision`: torchvision's `efficientnet_b4` / `efficientnet_b5` (symmetric padding,
 *   `features.<stage>.<block>` names; BatchNorm ε 1e-5 for B4, 1e-3 for B5, as torchvision builds
 *   them), so their weight files load unchanged.
 *
 * The feature maps each variant taps are those of the method that reads it:
 * - B5, as the CFA reference code builds them (cnn/efficientnet.py `extract_endpoints`): at stride
 *   4 the outputs of the last 5 blocks of the 40-channel stage, concatenated (200 ch); at stride 8
 *   the last 3 blocks of the 64-channel stage (192 ch); at stride 16 the last block of the
 *   176-channel stage (176 ch) — channel sum 568. The reference then divides each map by its
 *   channel count and gives φ 2·D/γd outputs (`embedding` below).
 * - B4, as UniAD's and CRAD's `efficientnet_b4(outlayers=[3, 4])` (models/backbones/__init__.py
 *   `backbone_info`: layers 3 and 4 are blocks 9 and 21): the last block of the 56-channel stage
 *   (stride 8) and of the 160-channel stage (stride 16) — channel sum 216, what CRAD's neck
 *   concatenates.
 *
 * @example
 * ```ts
 * inferFeatureShapes(efficientNetB5Definition(), 224).map((f) => f.channels); // [200, 192, 176]
 * inferFeatureShapes(efficientNetB4Definition(), 224).map((f) => [f.height, f.channels]); // [[28, 56], [14, 160]]
 * ```
 */
import { type BackboneDefinition, type NetBuilder, type Padding, PLAIN_EMBEDDING, type Taps } from './net-builder';

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

/** Stage (1-based) and how many of its last block outputs each tap concatenates. */
interface TappedStage {
  stage: number;
  last: number;
}

/** What distinguishes B4 from B5: scaling, nominal input, taps, BatchNorm ε per variant, the CFA embedding. */
interface Variant {
  name: string;
  width: number;
  depth: number;
  /** EfficientNet-PyTorch's `efficientnet_params(...)` resolution: what its static padding assumes. */
  nominal: number;
  tapped: TappedStage[];
  bnEps: Record<Taps, number>;
  embedding: BackboneDefinition['embedding'];
}

const VARIANTS = {
  b4: {
    name: 'efficientnet_b4',
    width: 1.4,
    depth: 1.8,
    nominal: 380,
    tapped: [
      { stage: 3, last: 1 },
      { stage: 5, last: 1 },
    ],
    bnEps: { reference: 1e-3, torchvision: 1e-5 },
    embedding: PLAIN_EMBEDDING,
  },
  b5: {
    name: 'efficientnet_b5',
    width: 1.6,
    depth: 2.2,
    nominal: 456,
    tapped: [
      { stage: 2, last: 5 },
      { stage: 3, last: 3 },
      { stage: 5, last: 1 },
    ],
    bnEps: { reference: 1e-3, torchvision: 1e-3 },
    embedding: { scaleByChannels: true, outMultiplier: 2 },
  },
} as const satisfies Record<string, Variant>;

export interface EfficientNetOptions {
  /** The variant's own (B5: 1.6). Smaller values give narrow copies for tests. */
  widthMult?: number;
  depthMult?: number;
  /** Default 'reference' (EfficientNet-PyTorch, as the reference codes run it). */
  taps?: Taps;
}

/** Parameter names of one variant. */
interface Naming {
  stem: [string, string];
  block(stage: number, indexInStage: number, globalIndex: number): string;
  expand(prefix: string): [string, string];
  depthwise(prefix: string, hasExpand: boolean): [string, string];
  squeeze(prefix: string, hasExpand: boolean): [string, string];
  project(prefix: string, hasExpand: boolean): [string, string];
  featureName(stage: number, first: number, last: number): string;
  unusedPrefixes(firstUnusedStage: number, firstUnusedBlock: number, totalBlocks: number): string[];
}

const TORCHVISION_NAMES: Naming = {
  stem: ['features.0.0', 'features.0.1'],
  block: (stage, j) => `features.${stage}.${j}`,
  expand: (p) => [`${p}.block.0.0`, `${p}.block.0.1`],
  depthwise: (p, e) => [`${p}.block.${e ? 1 : 0}.0`, `${p}.block.${e ? 1 : 0}.1`],
  squeeze: (p, e) => [`${p}.block.${e ? 2 : 1}.fc1`, `${p}.block.${e ? 2 : 1}.fc2`],
  project: (p, e) => [`${p}.block.${e ? 3 : 2}.0`, `${p}.block.${e ? 3 : 2}.1`],
  featureName: (stage) => `features.${stage}`,
  unusedPrefixes: (stage) => [...Array.from({ length: 9 - stage }, (_, i) => `features.${stage + i}.`), 'classifier.'],
};

const REFERENCE_NAMES: Naming = {
  stem: ['_conv_stem', '_bn0'],
  block: (_stage, _j, k) => `_blocks.${k}`,
  expand: (p) => [`${p}._expand_conv`, `${p}._bn0`],
  depthwise: (p) => [`${p}._depthwise_conv`, `${p}._bn1`],
  squeeze: (p) => [`${p}._se_reduce`, `${p}._se_expand`],
  project: (p) => [`${p}._project_conv`, `${p}._bn2`],
  featureName: (_stage, first, last) => (first === last ? `_blocks.${first}` : `_blocks.${first}-${last}`),
  unusedPrefixes: (_stage, block, total) => [
    ...Array.from({ length: total - block }, (_, i) => `_blocks.${block + i}.`),
    '_conv_head.',
    '_bn1.',
    '_fc.',
  ],
};

/**
 * EfficientNet-PyTorch's `Conv2dStaticSamePadding`: TensorFlow's "same" amounts for an input of
 * `nominal` pixels, the odd pixel at the end.
 */
export function staticSamePadding(nominal: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(nominal / stride);
  const total = Math.max((out - 1) * stride + kernel - nominal, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

interface BlockSpec {
  input: number;
  out: number;
  expandRatio: number;
  kernel: number;
  stride: number;
  /** Padding of the depthwise convolution. */
  padding: Padding;
}

function mbConv<T>(b: NetBuilder<T>, names: Naming, prefix: string, x: T, spec: BlockSpec): T {
  const { input, out, expandRatio, kernel, stride } = spec;
  const expanded = makeDivisible(input * expandRatio);
  const hasExpand = expanded !== input;
  let h = x;
  if (hasExpand) {
    const [conv, bn] = names.expand(prefix);
    h = b.silu(b.convBn(conv, bn, h, { inChannels: input, outChannels: expanded, kernel: 1 }));
  }
  const [dw, dwBn] = names.depthwise(prefix, hasExpand);
  h = b.silu(
    b.convBn(dw, dwBn, h, {
      inChannels: expanded,
      outChannels: expanded,
      kernel,
      stride,
      padding: spec.padding,
      groups: expanded,
    }),
  );
  const squeeze = Math.max(1, Math.floor(input / 4));
  const [reduce, expand] = names.squeeze(prefix, hasExpand);
  let scale = b.convBn(reduce, null, b.globalAvgPool(h), {
    inChannels: expanded,
    outChannels: squeeze,
    kernel: 1,
    bias: true,
  });
  scale = b.sigmoid(
    b.convBn(expand, null, b.silu(scale), { inChannels: squeeze, outChannels: expanded, kernel: 1, bias: true }),
  );
  h = b.mul(h, scale);
  const [project, projectBn] = names.project(prefix, hasExpand);
  h = b.convBn(project, projectBn, h, { inChannels: expanded, outChannels: out, kernel: 1 });
  return stride === 1 && input === out ? b.add(h, x) : h;
}

function efficientNetDefinition(variant: Variant, options: EfficientNetOptions): BackboneDefinition {
  const width = options.widthMult ?? variant.width;
  const depth = options.depthMult ?? variant.depth;
  const taps = options.taps ?? 'reference';
  const names = taps === 'reference' ? REFERENCE_NAMES : TORCHVISION_NAMES;
  // torchvision pads (k − 1)/2; the reference pads "same" for its nominal size, tracked stage by stage
  const padding = (nominal: number, kernel: number, stride: number): Padding =>
    taps === 'reference' ? staticSamePadding(nominal, kernel, stride) : (kernel - 1) / 2;
  const lastStage = Math.max(...variant.tapped.map((t) => t.stage));
  const blocksOf = (s: number) => Math.ceil(B0_STAGES[s - 1][5] * depth);
  const firstBlockOf = (s: number) =>
    Array.from({ length: s - 1 }, (_, i) => blocksOf(i + 1)).reduce((a, n) => a + n, 0);
  const featureNames = variant.tapped.map(({ stage, last }) => {
    const end = firstBlockOf(stage) + blocksOf(stage) - 1;
    return names.featureName(stage, end - last + 1, end);
  });
  return {
    name: variant.name,
    taps,
    featureNames,
    unusedPrefixes: names.unusedPrefixes(
      lastStage + 1,
      firstBlockOf(lastStage + 1),
      firstBlockOf(B0_STAGES.length + 1),
    ),
    bnEps: variant.bnEps[taps],
    embedding: variant.embedding,
    forward<T>(b: NetBuilder<T>, input: T): T[] {
      const stem = makeDivisible(32 * width);
      let nominal = variant.nominal;
      let x = b.silu(
        b.convBn(names.stem[0], names.stem[1], input, {
          inChannels: 3,
          outChannels: stem,
          kernel: 3,
          stride: 2,
          padding: padding(nominal, 3, 2),
        }),
      );
      nominal = Math.ceil(nominal / 2);
      const features: T[] = [];
      let globalIndex = 0;
      for (let s = 1; s <= lastStage; s++) {
        const [expandRatio, kernel, stageStride, inBase, outBase] = B0_STAGES[s - 1];
        const out = makeDivisible(outBase * width);
        let input = makeDivisible(inBase * width);
        const outputs: T[] = [];
        for (let j = 0; j < blocksOf(s); j++) {
          const stride = j === 0 ? stageStride : 1;
          const prefix = names.block(s, j, globalIndex);
          x = mbConv(b, names, prefix, x, {
            input,
            out,
            expandRatio,
            kernel,
            stride,
            padding: padding(nominal, kernel, stride),
          });
          if (j === 0) nominal = Math.ceil(nominal / stageStride);
          input = out;
          outputs.push(x);
          globalIndex++;
        }
        const tap = variant.tapped.find((t) => t.stage === s);
        if (tap) features.push(b.concat(outputs.slice(-tap.last)));
      }
      return features;
    },
  };
}

/** EfficientNet-B5 with the CFA reference code's taps (strides 4, 8, 16). */
export function efficientNetB5Definition(options: EfficientNetOptions = {}): BackboneDefinition {
  return efficientNetDefinition(VARIANTS.b5, options);
}

/** EfficientNet-B4 with UniAD's / CRAD's out-layers 3 and 4 (strides 8, 16). */
export function efficientNetB4Definition(options: EfficientNetOptions = {}): BackboneDefinition {
  return efficientNetDefinition(VARIANTS.b4, options);
}
