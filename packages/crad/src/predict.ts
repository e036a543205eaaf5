/**
 * CRAD's inference (reference `CRAD.forward` in eval mode, then `utils/eval_helper.py`): each test
 * image's features reconstructed from the continuous memory, the distance ‖R′ − F‖ per position,
 * the map upsampled to the input size (aligned corners) and box-smoothed (21 × 21), and the image
 * score as the map's largest 32 × 32 window mean.
 *
 * @example
 * ```ts
 * const { maps, imageScores } = await predictCrad({ model, test, inputSize: 224 });
 * ```
 */
import { pooledMaxScores, reconstructionMaps } from '@cfa/scoring';
import { type EmbeddingSet, type Prediction, readEmbeddings, stackImages } from '@cfa/method-kit';
import { createCradScorer } from './crad-scorer';
import type { FittedCrad } from './fit';

export interface PredictCradOptions {
  model: FittedCrad;
  test: EmbeddingSet;
  inputSize: number;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Maps [N, S, S] and image scores from distances [N, h, w], as the reference evaluator makes them. */
export function cradMapsAndScores(
  model: Pick<FittedCrad, 'grid' | 'config'>,
  distances: Float32Array,
  count: number,
  inputSize: number,
): { maps: Float32Array; imageScores: Float32Array } {
  const maps = reconstructionMaps({
    distances,
    count,
    height: model.grid.height,
    width: model.grid.width,
    outputSize: inputSize,
    smoothing: model.config.scoring.smoothing,
  });
  return { maps, imageScores: pooledMaxScores({ maps, count, size: inputSize, pool: model.config.scoring.imagePool }) };
}

export async function predictCrad({
  model,
  test,
  inputSize,
  batchSize = 8,
  onProgress,
}: PredictCradOptions): Promise<Prediction> {
  const start = performance.now();
  const { grid } = model;
  if (test.height !== grid.height || test.width !== grid.width || test.channels !== grid.channels)
    throw new Error(
      `predictCrad: test features are [${test.height}×${test.width}, ${test.channels}], the model was fitted on [${grid.height}×${grid.width}, ${grid.channels}]`,
    );
  const n = test.ids.length;
  const hw = grid.height * grid.width;
  const distances = new Float32Array(n * hw);
  const scorer = await createCradScorer(model);
  try {
    for (let b = 0; b < n; b += batchSize) {
      const indices = Array.from({ length: Math.min(batchSize, n - b) }, (_, i) => b + i);
      distances.set(await scorer.distances(stackImages(await readEmbeddings(test, indices)), indices.length), b * hw);
      onProgress?.(b + indices.length, n);
    }
  } finally {
    await scorer.release();
  }
  return {
    ...cradMapsAndScores(model, distances, n, inputSize),
    patchScores: distances,
    size: inputSize,
    ids: test.ids,
    seconds: (performance.now() - start) / 1000,
  };
}
