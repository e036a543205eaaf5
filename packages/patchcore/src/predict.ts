/**
 * PatchCore's inference as its code computes it (patchcore-inspection `PatchCore._predict`,
 * `NearestNeighbourScorer.predict`, `RescaleSegmentor.convert_to_segmentation`,
 * `PatchMaker.score`): each test patch's k nearest bank entries (@cfa/memory-bank's exact search,
 * as faiss's IndexFlatL2; the k distances recomputed as Σ (q − c)², `exactSquaredDistances`, since
 * the search's expanded form loses about 1e-4 of them to float32 rounding on these features), the
 * mean of their squared distances as the patch score,
 * the patch map upsampled bilinearly to the input size and blurred with σ = 4 (@cfa/scoring
 * `anomalyMaps`: scipy's gaussian_filter, truncate 4, 'reflect'), and the image score as the
 * largest PATCH score — the code's `max`, not the paper's reweighting (Eq. 7), and not the maximum
 * of the blurred map (docs/patchcore.md).
 *
 * @example
 * ```ts
 * const { maps, imageScores } = await predictPatchCore({ model, test, inputSize: 224 });
 * ```
 */
import { createNearestSearch, exactSquaredDistances } from '@cfa/memory-bank';
import { anomalyMaps, imageScores as maxScores, nearestNeighbourScores } from '@cfa/scoring';
import { type EmbeddingSet, type Prediction, readEmbeddings, stackImages } from '@cfa/method-kit';
import type { FittedPatchCore } from './fit';

export interface PredictPatchCoreOptions {
  model: FittedPatchCore;
  test: EmbeddingSet;
  /** Map side: the model's input size. */
  inputSize: number;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function predictPatchCore({
  model,
  test,
  inputSize,
  batchSize = 4,
  onProgress,
}: PredictPatchCoreOptions): Promise<Prediction> {
  const start = performance.now();
  const { height, width, bank, neighbours: k } = model;
  if (test.height !== height || test.width !== width || test.channels !== bank.dim)
    throw new Error(
      `predictPatchCore: test features are [${test.height}×${test.width}, ${test.channels}], the model was fitted on [${height}×${width}, ${bank.dim}]`,
    );
  if (height !== width)
    throw new Error(
      `predictPatchCore: the patch grid must be square (the views give square inputs), got ${height}×${width}`,
    );
  const hw = height * width;
  const n = test.ids.length;
  const patchScores = new Float32Array(n * hw);
  const search = await createNearestSearch({ engine: model.engine, dim: bank.dim });
  try {
    for (let first = 0; first < n; first += batchSize) {
      const indices = Array.from({ length: Math.min(batchSize, n - first) }, (_, i) => first + i);
      const rows = indices.length * hw;
      const queries = stackImages(await readEmbeddings(test, indices));
      const found = await search.nearest(queries, rows, bank, k);
      // the scores are the distances themselves: recomputed directly, not in the search's expanded form
      const distances = exactSquaredDistances({ queries, count: rows, bank, indices: found.indices, k });
      patchScores.set(nearestNeighbourScores({ distances, count: rows, k }), first * hw);
      onProgress?.(first + indices.length, n);
    }
  } finally {
    await search.release();
  }
  const maps = anomalyMaps({ scores: patchScores, count: n, height, width, outputSize: inputSize, sigma: model.sigma });
  return {
    maps,
    patchScores,
    imageScores: maxScores({ maps: patchScores, count: n, size: height }),
    size: inputSize,
    ids: test.ids,
    seconds: (performance.now() - start) / 1000,
  };
}
