/**
 * CFA's scoring of one member as an ONNX graph piece, for the one-graph export of @cfa/method-kit
 * (`buildOnnxModel`): backbone maps → patch embedding → φ → K nearest centres → softmin patch
 * scores → upsampled, blurred map. Composed from the stage packages' own lowerings, no second copy
 * of any maths:
 *
 *   patch embedding          @cfa/descriptor  lowerPatchEmbeddingToOnnx (3×3 avg-pool, bilinear upsample, concat)
 *   φ (1×1 CoordConv)        @cfa/descriptor  lowerBatchDescriptor
 *   nearest centres          @cfa/memory-bank lowerNearest (‖c‖² − 2 q·c ranking, TopK)
 *   softmin score, map       @cfa/scoring     lowerPatchAnomalyScores, lowerAnomalyMaps
 */
import { attr, type OnnxGraphBuilder } from '@cfa/tensor-runtime';
import { lowerBatchDescriptor, lowerPatchEmbeddingToOnnx } from '@cfa/descriptor';
import { lowerNearest } from '@cfa/memory-bank';
import { lowerAnomalyMaps, lowerPatchAnomalyScores } from '@cfa/scoring';
import type { LowerMapContext } from '@cfa/method-kit';
import type { CfaConfig } from './config';
import type { FittedCfa } from './fit';

/** @returns the value name of the member's anomaly map [n, inputSize, inputSize]. */
export function lowerCfaMap(g: OnnxGraphBuilder, context: LowerMapContext<CfaConfig, FittedCfa>): string {
  const { model, config, backbone, maps, shapes, inputSize, name } = context;
  const embedding = lowerPatchEmbeddingToOnnx(g, maps, shapes, backbone.definition.embedding.scaleByChannels);
  const { params, bank, height, width } = model;
  const { K, metric, sigma } = config.scoring;
  const hw = height * width;
  const x = g.node('Reshape', [
    g.node('Transpose', [embedding], { perm: attr.ints([0, 2, 3, 1]) })[0],
    g.ints('shape', [-1, hw, params.inChannels]),
  ])[0];
  const phi = lowerBatchDescriptor(g, x, { params, height, width, name }); // [n, HW, D′]
  const q = g.node('Reshape', [phi, g.ints('shape', [-1, params.outChannels])])[0];
  const ct = g.initializer(`${name}.bank_t`, bank.transposed, [bank.dim, bank.size]);
  const cn = g.initializer(`${name}.bank_sq_norms`, bank.squaredNorms, [bank.size]);
  const [distances] = lowerNearest(g, q, ct, cn, K);
  const scores = lowerPatchAnomalyScores(g, distances, { k: K, K, metric });
  return lowerAnomalyMaps(g, scores, { height, width, outputSize: inputSize, sigma });
}
