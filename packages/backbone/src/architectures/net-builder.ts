/**
 * The one definition of each backbone architecture: a function over an abstract `NetBuilder`.
 * The same definition is interpreted several ways — collecting parameter names and shapes,
 * inferring feature shapes, running on TensorFlow.js, lowering to an ONNX graph — so there is no
 * second hand-written copy of any network.
 *
 * Names passed to the builder are torchvision's parameter prefixes (`layer1.0.conv1`), so the
 * parameters a definition asks for are exactly the keys of a torchvision state dict.
 */

export interface ConvSpec {
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride?: number;
  padding?: number;
  groups?: number;
  /** Whether the convolution has its own bias (VGG); ResNet convolutions do not. */
  bias?: boolean;
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

export interface BackboneDefinition {
  /** Registry name (`resnet18`). */
  name: string;
  /** torchvision module names of the tapped feature maps, strides 4/8/16. */
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
