/**
 * CRAD's scoring as ONNX graph pieces, composed from the stage packages' lowerings (eval mode:
 * BatchNorm on running statistics, no noise):
 *
 *   MFCN neck          @cfa/descriptor   lowerMfcnNeck (backbone maps → [n, C, h, w])
 *   coordinates        @cfa/descriptor   lowerCoordinatePredictors
 *   memory read        @cfa/memory-bank  lowerContinuousMemory (tent weights × grid, opset 13)
 *   reconstruction     @cfa/descriptor   lowerBottleneckDecoder
 *   blend + distance   @cfa/scoring      lowerReconstructionDistance → [n, h, w]
 *   map                @cfa/scoring      lowerReconstructionMaps (aligned-corner upsampling, box smoothing)
 *
 * `lowerCradDistances` serves the ONNX Runtime predictor; `lowerCradMap` is the member's piece of
 * the one-graph export.
 */
import type { OnnxGraphBuilder } from '@cfa/tensor-runtime';
import { lowerBottleneckDecoder, lowerCoordinatePredictors, lowerMfcnNeck } from '@cfa/descriptor';
import { CONTINUOUS_MEMORY_NAMES, lowerContinuousMemory } from '@cfa/memory-bank';
import { lowerPooledMaxScores, lowerReconstructionDistance, lowerReconstructionMaps } from '@cfa/scoring';
import type { LowerMapContext } from '@cfa/method-kit';
import type { CradConfig } from './config';
import type { FittedCrad } from './fit';

/** NCHW features [n, C, h, w] → reconstruction distances [n, h, w]. */
export function lowerCradDistances(g: OnnxGraphBuilder, features: string, model: FittedCrad, name: string): string {
  const { state, grid } = model;
  const coords = lowerCoordinatePredictors(g, features, state, name);
  const memory = lowerContinuousMemory(g, {
    local: state.get(CONTINUOUS_MEMORY_NAMES.local)!,
    global: state.get(CONTINUOUS_MEMORY_NAMES.global)!,
    localCoords: coords.local,
    globalCoords: coords.global,
    height: grid.height,
    width: grid.width,
    name,
  });
  const reconstruction = lowerBottleneckDecoder(g, memory, state, name);
  return lowerReconstructionDistance(g, reconstruction, features, model.config.scoring);
}

/** The member's export piece: backbone maps (NCHW) → anomaly map [n, S, S]. */
export function lowerCradMap(g: OnnxGraphBuilder, context: LowerMapContext<CradConfig, FittedCrad>): string {
  const { model, maps, shapes, inputSize, name } = context;
  const features = lowerMfcnNeck(g, maps, shapes);
  const distances = lowerCradDistances(g, features, model, name);
  return lowerReconstructionMaps(g, distances, {
    height: model.grid.height,
    width: model.grid.width,
    outputSize: inputSize,
    smoothing: model.config.scoring.smoothing,
  });
}

/** The image score of an exported map: its largest `scoring.imagePool`² window mean. */
export function lowerCradImageScore(g: OnnxGraphBuilder, map: string, size: number, config: CradConfig): string {
  return lowerPooledMaxScores(g, map, { size, pool: config.scoring.imagePool });
}
