/**
 * φ of a batch of full-resolution embeddings with a fitted descriptor's weights stored in the
 * graph — the form a self-contained export needs (any batch size, the upsampled embedding of
 * `lowerPatchEmbeddingToOnnx` as input). Training and cached inference use the pyramid form
 * (`lowerPyramidDescriptor`); both build on the same CoordConv lowering.
 *
 *   φ = [X, coords] · W + b      (paper §3.1: 1×1 CoordConv), X [n, H·W, D] → φ [n, H·W, D′]
 */
import type { OnnxGraphBuilder } from '@cfa/tensor-runtime';
import type { CoordConvParams } from './coord-conv';
import { coordConvWeightFeeds, coordinatesInitializer, lowerCoordConvForward } from './coord-conv-onnx';

export interface BatchDescriptorOptions {
  params: CoordConvParams;
  height: number;
  width: number;
  /** Prefix of the constants' names (a graph may hold several descriptors). */
  name: string;
}

/** φ [n, H·W, D′] of `x` [n, H·W, D]. */
export function lowerBatchDescriptor(g: OnnxGraphBuilder, x: string, options: BatchDescriptorOptions): string {
  const { params, height, width, name } = options;
  const shape = {
    hw: height * width,
    inChannels: params.inChannels,
    coordChannels: params.coordChannels,
    outChannels: params.outChannels,
  };
  const fed = coordConvWeightFeeds(params.weight, params.bias, shape);
  const constant = (part: 'weight_x' | 'weight_c' | 'bias') =>
    g.initializer(`${name}.${part}`, fed[part].data, fed[part].dims);
  const weights = { weightX: constant('weight_x'), weightC: constant('weight_c'), bias: constant('bias') };
  return lowerCoordConvForward(g, x, weights, coordinatesInitializer(g, height, width, params.coordChannels), 'batch');
}
