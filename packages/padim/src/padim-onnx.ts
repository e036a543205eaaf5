/**
 * A fitted PaDiM member's scoring as an ONNX graph piece (`AnomalyMethod.lowerMap`), composed of
 * the stage packages' lowerings: backbone maps → nearest-replication embedding with the kept
 * channels (@cfa/descriptor `lowerNearestEmbedding`) → Mahalanobis distance per position
 * (@cfa/scoring `lowerMahalanobisMaps`, the Gaussians as initializers `<name>.gaussians.*`) →
 * upsampling + blur (`lowerAnomalyMaps`). The export's size is the Gaussians': 4·H·W·d² bytes
 * (ResNet-18, d = 100: 125 MB).
 */
import { attr, type OnnxGraphBuilder } from '@cfa/tensor-runtime';
import { lowerNearestEmbedding } from '@cfa/descriptor';
import type { LowerMapContext } from '@cfa/method-kit';
import { lowerAnomalyMaps, lowerMahalanobisMaps } from '@cfa/scoring';
import type { PadimConfig } from './config';
import type { FittedPadim } from './fit';

export function lowerPadimMap(
  g: OnnxGraphBuilder,
  { model, maps, shapes, inputSize, name }: LowerMapContext<PadimConfig, FittedPadim>,
): string {
  const { gaussians, channels, height, width, sigma } = model;
  const embedding = lowerNearestEmbedding(g, maps, shapes, channels); // [n, d, H, W]
  const rows = g.node(
    'Transpose',
    [g.node('Reshape', [embedding, g.ints('shape', [0, channels.length, height * width])])[0]],
    { perm: attr.ints([0, 2, 1]) },
  )[0]; // [n, H·W, d]
  const distances = lowerMahalanobisMaps(g, rows, { gaussians, name: `${name}.gaussians` });
  return lowerAnomalyMaps(g, distances, { height, width, outputSize: inputSize, sigma });
}
