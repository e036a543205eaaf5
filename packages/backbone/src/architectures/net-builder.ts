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
  maxPool(x: T, spec: PoolSpec): T;
  add(a: T, b: T): T;
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
}
