/**
 * PaDiM's inference (paper §3.3): test embeddings (the fit's channels) → Mahalanobis distance to
 * each position's Gaussian (@cfa/scoring `createMahalanobisScorer`, batched on the run's engine)
 * → bilinear upsampling to the input size and the σ blur (`anomalyMaps`, the reference code's
 * `F.interpolate` + `gaussian_filter`) → image score = the map's maximum. The reference code
 * min-max normalises all test maps together before its metrics; AUROC and PRO do not change
 * under that, and a deployed model cannot know the test set's range, so maps stay raw.
 */
import { nearestEmbedding } from '@cfa/descriptor';
import { type PredictContext, type Prediction, stackImages } from '@cfa/method-kit';
import { anomalyMaps, createMahalanobisScorer, imageScores } from '@cfa/scoring';
import type { FittedPadim } from './fit';

export async function predictPadim({
  model,
  test,
  inputSize,
  batchSize = 8,
  onProgress,
}: PredictContext<FittedPadim>): Promise<Prediction> {
  const start = performance.now();
  const { gaussians, channels, height, width } = model;
  const P = height * width;
  if (test.height !== height || test.width !== width)
    throw new Error(
      `predictPadim: test features are on a ${test.height}×${test.width} grid, the model's ${height}×${width}`,
    );
  const n = test.ids.length;
  const patchScores = new Float32Array(n * P);
  const scorer = await createMahalanobisScorer({ engine: model.engine, gaussians });
  try {
    for (let b = 0; b < n; b += batchSize) {
      const indices = Array.from({ length: Math.min(batchSize, n - b) }, (_, i) => b + i);
      const embeddings = await Promise.all(
        indices.map(async (i) => nearestEmbedding({ pyramid: await test.pyramid(i), levels: test.levels, channels })),
      );
      patchScores.set(await scorer.maps(stackImages(embeddings), indices.length), b * P);
      onProgress?.(b + indices.length, n);
    }
  } finally {
    await scorer.release();
  }
  const maps = anomalyMaps({ scores: patchScores, count: n, height, width, outputSize: inputSize, sigma: model.sigma });
  return {
    maps,
    patchScores,
    imageScores: imageScores({ maps, count: n, size: inputSize }),
    size: inputSize,
    ids: test.ids,
    seconds: (performance.now() - start) / 1000,
  };
}
