/**
 * CRAD's forward pass (reference `models/reconstructions/crad.py` `CRAD.forward`) composed from the
 * stage packages, on TensorFlow.js and differentiable: features F [B, h, w, C] →
 *
 *   coordinates      @cfa/descriptor   globalCoordinatesTf (per image), localCoordinatesTf (per position)
 *   (+ noise)        training only: N(0, σ²) on the local coordinates, drawn by the trainer
 *   memory read      @cfa/memory-bank  continuousMemoryTf: global map ⧺ local vectors, [B, h, w, 2C]
 *   reconstruction   @cfa/descriptor   bottleneckDecoderTf → R [B, h, w, C]
 *   blend, distance  @cfa/scoring      blendedReconstructionTf → R′; reconstructionDistanceTf
 *
 * No maths here: the order of the pieces and what flows between them.
 *
 * @example
 * ```ts
 * const out = cradForwardTf(params, features, { training: false, blend: config.scoring });
 * out.distances; // [B, h, w]
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  type BatchStatistics,
  bottleneckDecoderTf,
  globalCoordinatesTf,
  localCoordinatesTf,
  namedTensor,
  type TensorLookup,
} from '@cfa/descriptor';
import { CONTINUOUS_MEMORY_NAMES, continuousMemoryTf } from '@cfa/memory-bank';
import { blendedReconstructionTf, type ReconstructionBlend, reconstructionDistanceTf } from '@cfa/scoring';

export interface CradForwardOptions {
  /** BatchNorm on batch statistics (returned), as the module in `train()` mode. */
  training: boolean;
  /** Added to the local coordinates [B, h, w, 2] (training noise, drawn by the caller). */
  noise?: tf.Tensor4D;
  blend: ReconstructionBlend;
}

export interface CradForward {
  globalCoords: tf.Tensor2D;
  localCoords: tf.Tensor4D;
  /** The memory read, [B, h, w, 2C]. */
  memory: tf.Tensor4D;
  /** R, [B, h, w, C]. */
  reconstruction: tf.Tensor4D;
  /** R′, [B, h, w, C]. */
  blended: tf.Tensor4D;
  /** ‖R′ − F‖ per position, [B, h, w]. */
  distances: tf.Tensor3D;
  /** Training only, kept: the caller disposes them. */
  batchStatistics: Map<string, BatchStatistics<tf.Tensor1D>>;
}

/** Call inside `tf.tidy` (or a gradient function); the batch statistics survive it. */
export function cradForwardTf(params: TensorLookup, features: tf.Tensor4D, options: CradForwardOptions): CradForward {
  const globalCoords = globalCoordinatesTf(params, features);
  const predicted = localCoordinatesTf(params, features);
  const localCoords = options.noise ? (tf.add(predicted, options.noise) as tf.Tensor4D) : predicted;
  const memory = continuousMemoryTf({
    local: namedTensor(params, CONTINUOUS_MEMORY_NAMES.local, 'CRAD') as tf.Tensor4D,
    global: namedTensor(params, CONTINUOUS_MEMORY_NAMES.global, 'CRAD') as tf.Tensor4D,
    localCoords,
    globalCoords,
  });
  const { output: reconstruction, batchStatistics } = bottleneckDecoderTf(params, memory, {
    training: options.training,
  });
  const blended = blendedReconstructionTf({ reconstruction, features, ...options.blend });
  return {
    globalCoords,
    localCoords,
    memory,
    reconstruction,
    blended,
    distances: reconstructionDistanceTf(blended, features),
    batchStatistics,
  };
}
