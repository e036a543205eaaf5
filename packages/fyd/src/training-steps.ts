/**
 * One optimisation step of each of FYD's two training stages (docs/methods/fyd.md), as the chain
 * rule over the stage packages' closed-form pieces — the statement PyTorch's autograd checks in
 * gradient-parity.spec.ts (tools/torch-reference/fyd_reference.py):
 *
 * - image level: pose of each image (its spatial transformer on the image pooled to g×g) →
 *   its small copy warped (`affineGrid`, `gridSample`) → `pairwiseAlignmentLoss` → back through
 *   `gridSampleGradient`, `affineGridGradient`, `localiseGradient`;
 * - feature level + fine: each backbone map warped by its level's transformer → embedding →
 *   adaptor and predictor (`AlignmentHeadRunner`, either engine) → `denseSimilarityLoss` → back
 *   through the head, the embedding's upsampling and each level's transformer.
 *
 * @example
 * ```ts
 * const { loss, grads } = imageAlignmentStep({ batch, params, bounds });
 * const step = await fineAlignmentStep({ maps, count: 8, levels, stns, bounds, head, trainFeature: true, trainAdaptor: true });
 * ```
 */
import { affineGrid, affineGridGradient, gridSample, gridSampleGradient } from '@cfa/tensor-runtime';
import {
  type AlignmentHeadRunner,
  type EmbeddingLevel,
  localise,
  localiseGradient,
  type PoseBounds,
  type SpatialTransformerParams,
} from '@cfa/descriptor';
import { denseSimilarityLoss, pairwiseAlignmentLoss } from '@cfa/scoring';
import { levelShape, stackEmbedding, unstackEmbeddingGradient, warpLevels } from './feature-alignment';

/** A batch of the image-level stage: each image pooled for the localisation network, and its small copy. */
export interface ImageBatch {
  count: number;
  /** [count, g·g·3]: the image area-pooled to g×g, NHWC order. */
  pooled: Float32Array;
  /** [count, L, L, 3]: the image area-pooled to the loss size L. */
  small: Float32Array;
  size: number;
}

export function imageAlignmentStep(options: {
  batch: ImageBatch;
  params: SpatialTransformerParams;
  bounds: PoseBounds;
}): {
  loss: number;
  grads: Float32Array[];
  theta: Float32Array;
  aligned: Float32Array;
} {
  const { batch, params, bounds } = options;
  const { count, size } = batch;
  const pose = localise({ pooled: batch.pooled, count, params, bounds });
  const grid = affineGrid({ theta: pose.theta, count, height: size, width: size });
  const sampled = {
    input: batch.small,
    inputShape: [count, size, size, 3] as const,
    grid,
    gridShape: [count, size, size] as const,
    padding: bounds.padding,
  };
  const aligned = gridSample(sampled);
  const { loss, gradAligned } = pairwiseAlignmentLoss({ aligned, batch: count, positions: size * size, channels: 3 });
  const { gradGrid } = gridSampleGradient({ ...sampled, gradOutput: gradAligned });
  const gradTheta = affineGridGradient({ gradGrid, count, height: size, width: size });
  return {
    loss,
    grads: localiseGradient({ pose, pooled: batch.pooled, params, bounds, gradTheta }),
    theta: pose.theta,
    aligned,
  };
}

export interface FineStepResult {
  loss: number;
  /** Per level with a transformer, its gradients (`spatialTransformerTensors` order); else undefined. */
  stnGrads: (Float32Array[] | undefined)[];
  /** `alignmentHeadTensors` order (the adaptor's are zeros when it does not train). */
  headGrads: Float32Array[];
  z: Float32Array;
  p: Float32Array;
}

export async function fineAlignmentStep(options: {
  /** Per level [count, h, w, C]: the batch's backbone maps. */
  maps: Float32Array[];
  count: number;
  levels: EmbeddingLevel[];
  /** Per level, its transformer (feature-level alignment); absent: none. */
  stns?: SpatialTransformerParams[];
  bounds: PoseBounds;
  head: AlignmentHeadRunner;
  /** Whether the transformers learn (feature-level coarse alignment). */
  trainFeature: boolean;
  /** Whether the adaptor learns (fine alignment). */
  trainAdaptor: boolean;
}): Promise<FineStepResult> {
  const { maps, count, levels, stns, bounds, head, trainFeature, trainAdaptor } = options;
  const warped = warpLevels({ maps, count, levels, stns, bounds });
  const embedding = stackEmbedding(warped.maps, count, levels);
  const positions = levels[0].height * levels[0].width;
  const rows = count * positions;
  const { z, hiddenPre, p } = await head.forward(embedding, rows);
  const dim = z.length / rows;
  const { loss, gradP } = denseSimilarityLoss({ p, z, batch: count, positions, dim });
  const wantEmbedding = trainFeature && warped.steps.some((s) => s !== undefined);
  const back = await head.backward({ embedding, z, hiddenPre, gradP, rows, trainAdaptor, wantEmbedding });
  const gradMaps = back.gradEmbedding ? unstackEmbeddingGradient(back.gradEmbedding, count, levels) : undefined;
  const stnGrads = levels.map((level, l) => {
    const step = warped.steps[l];
    if (!step || !gradMaps) return undefined;
    const { gradGrid } = gridSampleGradient({
      input: maps[l],
      inputShape: levelShape(level, count),
      grid: step.grid,
      gridShape: [count, level.height, level.width],
      padding: bounds.padding,
      gradOutput: gradMaps[l],
    });
    const gradTheta = affineGridGradient({ gradGrid, count, height: level.height, width: level.width });
    return localiseGradient({ pose: step.pose, pooled: step.pooled, params: stns![l], bounds, gradTheta });
  });
  return { loss, stnGrads, headGrads: back.grads, z, p };
}
