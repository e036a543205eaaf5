import { decodeImage, indexCategory } from '@cfa/data';
import type { EngineSelection } from '@cfa/tensor-runtime';
import { createImagePredictor, type ImageInput } from '../predict-images';
import type { TrainedModel } from '../trained-model';

/** A category's test images, decoded, with their ids: what a reloaded bundle is scored on. */
export async function categoryTestImages(root: string, category: string): Promise<ImageInput[]> {
  const index = await indexCategory({ root, category });
  return Promise.all(index.test.map(async (r) => ({ id: r.id, image: await decodeImage(r.imagePath) })));
}

/** The largest |map − expected| over every pixel of the maps `model` predicts for `images`. */
export async function predictedMapsError(
  model: TrainedModel,
  images: ImageInput[],
  engine: EngineSelection,
  expected: Float32Array,
): Promise<number> {
  const predictor = await createImagePredictor(model, engine);
  try {
    const out = await predictor.predict(images);
    let worst = 0;
    out.maps.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - expected[i]))));
    return worst;
  } finally {
    await predictor.release();
  }
}
