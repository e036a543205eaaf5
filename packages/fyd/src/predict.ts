/**
 * FYD's inference (docs/methods/fyd.md): each viewed image to its pose (image-level transformer),
 * the frozen backbone, each map to its level's pose, the embedding, the adaptor, and the
 * Mahalanobis distance to the position's Gaussian (PaDiM's scoring, @cfa/scoring) → the patch
 * scores, brought back from the aligned grid onto the input image's (the inverse of the poses),
 * upsampled and smoothed into the anomaly map; the image score is the map's maximum.
 * Glue over the stage packages; the same pieces make the ONNX export (fyd-onnx.ts).
 *
 * @example
 * ```ts
 * const prediction = await predictFyd({ model, test, inputSize: 224 });
 * ```
 */
import { createBackboneRunner } from '@cfa/backbone';
import { createAlignmentHeadRunner, spatialTransform } from '@cfa/descriptor';
import { createMahalanobisScorer } from '@cfa/scoring';
import { type PredictContext, type Prediction, predictionFromPatchScores } from '@cfa/method-kit';
import { scoresOnInputGrid, stackEmbedding, warpLevels } from './feature-alignment';
import { type FittedFyd, poseBounds } from './fit';

export async function predictFyd({
  model,
  test,
  inputSize,
  batchSize = 4,
  onProgress,
}: PredictContext<FittedFyd>): Promise<Prediction> {
  const start = performance.now();
  const { engine, levels, gaussians } = model;
  const size = model.inputSize;
  if (test.height !== size || test.channels !== 3)
    throw new Error(
      `predictFyd: the model reads ${size}×${size} images, got features ${test.height}×${test.width}×${test.channels}`,
    );

  const positions = levels[0].height * levels[0].width;
  const n = test.ids.length;
  const patchScores = new Float32Array(n * positions);
  const backbone = await createBackboneRunner({ engine, model: model.backbone, inputSize: size });
  const head = await createAlignmentHeadRunner({ engine, params: model.head });
  const scorer = await createMahalanobisScorer({ engine, gaussians });
  try {
    const pixels = size * size * 3;
    for (let b = 0; b < n; b += batchSize) {
      const count = Math.min(batchSize, n - b);
      const input = new Float32Array(count * pixels);
      const imageTheta = model.imageStn ? new Float32Array(count * 6) : undefined;
      for (let i = 0; i < count; i++) {
        const image = await test.get(b + i);
        if (!model.imageStn || !imageTheta) {
          input.set(image, i * pixels);
          continue;
        }
        const aligned = spatialTransform({
          x: image,
          shape: [1, size, size, 3],
          params: model.imageStn,
          bounds: poseBounds(model.config, 'image'),
        });
        input.set(aligned.y, i * pixels);
        imageTheta.set(aligned.pose.theta, i * 6);
      }
      const maps = (await backbone.forward(input, count)).map((m) => m.data);
      const warped = warpLevels({
        maps,
        count,
        levels,
        stns: model.featureStns,
        bounds: poseBounds(model.config, 'feature'),
      });
      const z = await head.adapt(stackEmbedding(warped.maps, count, levels), count * positions);
      const scores = await scorer.maps(z, count);
      patchScores.set(
        scoresOnInputGrid({
          scores,
          count,
          height: levels[0].height,
          width: levels[0].width,
          imageTheta,
          featureTheta: warped.steps[0]?.pose.theta,
        }),
        b * positions,
      );
      onProgress?.(b + count, n);
    }
  } finally {
    await scorer.release();
    await head.release();
    await backbone.release();
  }
  const { height, width } = levels[0];
  return predictionFromPatchScores({
    patchScores,
    ids: test.ids,
    height,
    width,
    inputSize,
    sigma: model.config.scoring.sigma,
    start,
  });
}
