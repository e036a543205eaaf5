/**
 * PatchCore's scoring of one member as an ONNX graph piece, for the one-graph export of
 * @cfa/method-kit (`buildOnnxModel`): backbone maps → locally aware patch features → nearest bank
 * entries → patch scores → upsampled, blurred map, and the image score (the largest patch score).
 * Composed from the stage packages' lowerings, no second copy of any maths:
 *
 *   patch features      @cfa/descriptor  lowerLocalPatchFeatures (unfold, adaptive pooling, upsample)
 *   nearest entries     @cfa/memory-bank lowerNearest, lowerExactSquaredDistances, memoryBankConstants
 *   patch score, map    @cfa/scoring     lowerNearestNeighbourScores, lowerAnomalyMaps
 *   image score         @cfa/scoring     lowerImageScores of the [n, H, W] patch scores
 */
import { attr, type OnnxGraphBuilder } from '@cfa/tensor-runtime';
import { lowerLocalPatchFeatures } from '@cfa/descriptor';
import { lowerExactSquaredDistances, lowerNearest, memoryBankConstants } from '@cfa/memory-bank';
import { lowerAnomalyMaps, lowerImageScores, lowerNearestNeighbourScores } from '@cfa/scoring';
import type { LowerMapContext, LoweredMember } from '@cfa/method-kit';
import type { PatchCoreConfig } from './config';
import { layerIndices } from './extractor';
import type { FittedPatchCore } from './fit';

export function lowerPatchCoreMap(
  g: OnnxGraphBuilder,
  { model, config, backbone, maps, shapes, inputSize, name }: LowerMapContext<PatchCoreConfig, FittedPatchCore>,
): LoweredMember {
  const picked = layerIndices(backbone, config.layers);
  const features = lowerLocalPatchFeatures(
    g,
    picked.map((i) => maps[i]),
    picked.map((i) => shapes[i]),
    config.embedding,
  );
  const { bank, height, width, neighbours, sigma } = model;
  const q = g.node('Reshape', [
    g.node('Transpose', [features], { perm: attr.ints([0, 2, 3, 1]) })[0],
    g.ints('shape', [-1, bank.dim]),
  ])[0];
  const { ct, cn } = memoryBankConstants(g, bank, name);
  const [, indices] = lowerNearest(g, q, ct, cn, neighbours);
  const distances = lowerExactSquaredDistances(g, q, ct, indices); // as predict: Σ (q − c)², not the expanded form
  const scores = lowerNearestNeighbourScores(g, distances, neighbours); // [n·H·W]
  return {
    map: lowerAnomalyMaps(g, scores, { height, width, outputSize: inputSize, sigma }),
    imageScore: lowerImageScores(g, g.node('Reshape', [scores, g.ints('shape', [-1, height, width])])[0]),
  };
}
