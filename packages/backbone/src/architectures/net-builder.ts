/**
 * The one definition of each backbone architecture: a function over an abstract `NetBuilder`.
 * The same definition is interpreted several ways — collecting parameter names and shapes,
 * inferring feature shapes, running on TensorFlow.js, lowering to an ONNX graph — so there is no
 * second hand-written copy of any network.
 *
 * Names passed to the builder are the parameter prefixes of the weight files the definition reads
 * (torchvision's `layer1.0.conv1`; EfficientNet-PyTorch's `_blocks.3._depthwise_conv` for the
 * reference EfficientNet), so the parameters a definition asks for are exactly a state dict's keys.
 */

export interface ConvSpec {
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride?: number;
  /**
   * Zero padding on each side, or `[begin, end]` for asymmetric padding (the same on height and
   * width): the CFA reference code's EfficientNet pads "same" like TensorFlow, e.g. `[0, 1]`.
   */
  padding?: Padding;
  groups?: number;
  /** Whether the convolution has its own bias (VGG); ResNet convolutions do not. */
  bias?: boolean;
}

/** Symmetric padding, or `[begin, end]` of each spatial axis. */
export type Padding = number | readonly [number, number];

/** `[begin, end]` of a padding. */
export function paddingPair(padding: Padding | undefined): [number, number] {
  if (padding === undefined) return [0, 0];
  return typeof padding === 'number' ? [padding, padding] : [padding[0], padding[1]];
}

export interface PoolSpec {
  kernel: number;
  stride: number;
  padding: number;
}

export interface NetBuilder<T> {
  /** A convolution, followed by eval-mode BatchNorm when `bn` names one (fused at load time). */
  convBn(conv: string, bn: string | null, x: T, spec: ConvSpec): T;
  relu(x: T): T;
  /** max(x, 0) + slope · min(x, 0) (the reference code's ResNet taps: `F.leaky_relu`, slope 0.01). */
  leakyRelu(x: T, slope: number): T;
  /** x · sigmoid(x) (EfficientNet). */
  silu(x: T): T;
  sigmoid(x: T): T;
  maxPool(x: T, spec: PoolSpec): T;
  /** Mean over height and width, keeping them as size 1 (squeeze-and-excitation). */
  globalAvgPool(x: T): T;
  add(a: T, b: T): T;
  /** Elementwise product; `b` may be [N, 1, 1, C] against `a` [N, H, W, C]. */
  mul(a: T, b: T): T;
  /** Concatenation on channels. */
  concat(xs: T[]): T;
}

/**
 * Where the feature maps come from (docs/defaults.md):
 * - `reference`: as the CFA reference code builds them (sungwool/CFA_for_anomaly_localization
 *   `cnn/*.py`): its ResNet blocks end without the ReLU after the residual add and the tapped
 *   layer outputs go through `F.leaky_relu` (slope 0.01); its EfficientNet is EfficientNet-PyTorch
 *   with TensorFlow-style static "same" padding computed for a 456-pixel input and that
 *   package's parameter names. VGG-19-BN taps are the same in both.
 * - `torchvision`: torchvision's modules and their post-ReLU outputs (what anomalib's timm
 *   extractor gives).
 */
export type Taps = 'reference' | 'torchvision';
export const TAPS: readonly Taps[] = ['reference', 'torchvision'];

export interface BackboneDefinition {
  /** Registry name (`resnet18`). */
  name: string;
  /** Which variant of the feature maps this definition computes. */
  taps: Taps;
  /** Module names (in the weight files' naming) of the tapped feature maps, strides 4/8/16. */
  featureNames: string[];
  /** Runs the network; returns the feature maps in `featureNames` order. */
  forward<T>(b: NetBuilder<T>, input: T): T[];
  /**
   * Prefixes of a full torchvision state dict that the tapped part never uses (layer4, fc):
   * present in users' files, so neither missing nor unexpected.
   */
  unusedPrefixes: string[];
  /** BatchNorm ε (torchvision: 1e-5; EfficientNet 1e-3). */
  bnEps: number;
  /**
   * What the CFA reference code does differently for this backbone's patch embedding:
   * EfficientNet maps are divided by their channel count and φ has 2·D/γd outputs.
   */
  embedding: { scaleByChannels: boolean; outMultiplier: number };
}

export const PLAIN_EMBEDDING = { scaleByChannels: false, outMultiplier: 1 } as const;
