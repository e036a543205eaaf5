/**
 * CFA's inference (anomalib `cfa/torch_model.py` eval branch + `anomaly_map.py`): φ of each test
 * embedding, its K nearest centres, the softmin-weighted patch score, upsampling to the input
 * size, Gaussian smoothing, and the image score as the map's maximum.
 *
 * @example
 * ```ts
 * const { maps, imageScores, size } = await predictCfa({ model, test, inputSize: 224 });
 * ```
 */
import { anomalyMaps, imageScores as maxScores, patchAnomalyScores } from '@cfa/scoring';
import { type EmbeddingSet, type Prediction, readPyramids } from '@cfa/method-kit';
import type { FittedCfa } from './fit';
import { createPatchDistances } from './patch-distances';

export interface PredictOptions {
  model: FittedCfa;
  test: EmbeddingSet;
  /** Map side: the model's input size. */
  inputSize: number;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function predictCfa({
  model,
  test,
  inputSize,
  batchSize = 4,
  onProgress,
}: PredictOptions): Promise<Prediction> {
  const start = performance.now();
  const { height, width } = model;
  if (test.height !== height || test.width !== width || test.channels !== model.params.inChannels) {
    throw new Error(
      `predictCfa: test embeddings are [${test.height}×${test.width}, ${test.channels}], the model was fitted on [${height}×${width}, ${model.params.inChannels}]`,
    );
  }
  const hw = height * width;
  const n = test.ids.length;
  const K = model.config.scoring.K;
  const patchScores = new Float32Array(n * hw);
  const scorer = await createPatchDistances({
    engine: model.engine,
    params: model.params,
    bank: model.bank,
    levels: test.levels,
    k: K,
  });
  try {
    for (let start0 = 0; start0 < n; start0 += batchSize) {
      const indices = Array.from({ length: Math.min(batchSize, n - start0) }, (_, i) => start0 + i);
      const distances = await scorer.nearest(await readPyramids(test, indices));
      patchScores.set(
        patchAnomalyScores({ distances, count: indices.length * hw, k: K, K, metric: model.config.scoring.metric }),
        start0 * hw,
      );
      onProgress?.(start0 + indices.length, n);
    }
  } finally {
    await scorer.release();
  }
  const maps = anomalyMaps({
    scores: patchScores,
    count: n,
    height,
    width,
    outputSize: inputSize,
    sigma: model.config.scoring.sigma,
  });
  return {
    maps,
    patchScores,
    imageScores: maxScores({ maps, count: n, size: inputSize }),
    size: inputSize,
    ids: test.ids,
    seconds: (performance.now() - start) / 1000,
  };
}
