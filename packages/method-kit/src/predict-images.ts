/**
 * A trained model of any method scoring new images — no ground truth, any size the loader decodes:
 * each image goes through every member's inference view (`inferenceView`: the fit's view made
 * deterministic), the backbone and the method's feature extractor, then the method's `predict`;
 * an ensemble combines the two members' maps on the primary's grid (`combineViewPredictions`). The
 * same code path as the evaluation in `runMethodOnCategory`, so a saved and reloaded model gives
 * the run's numbers.
 *
 * @example
 * ```ts
 * const { model } = await loadModel('runs/x/model', { engine, methods });
 * const predictor = await createImagePredictor(model);
 * const out = await predictor.predict([{ id: 'a', image: await decodeImage('a.png') }]);
 * out.maps; out.imageScores; out.viewed[0]; // [size, size, 3] RGB in [0, 1]: what the ONNX export takes
 * await predictor.release();
 * ```
 */
import type { EngineSelection } from '@cfa/tensor-runtime';
import { inferenceView, normalizeImageNet, type Raster, viewOutputSize, viewRasters } from '@cfa/data';
import type { EmbeddingLevel } from '@cfa/descriptor';
import { memoryEmbeddingSet } from './embedding-set';
import type { FeatureExtractor } from './method';
import type { Prediction } from './prediction';
import type { TrainedMember, TrainedModel } from './trained-model';
import { combineViewPredictions, methodImageScores } from './view-ensemble';

export interface ImageInput {
  /** Names the image in the result (and, for rd-mvtec-trained models, nothing else: inference views are deterministic). */
  id: string;
  /** Decoded RGB in [0, 1] (`decodeImage`), any size. */
  image: Raster;
}

export interface ImagePrediction extends Prediction {
  /** Each image under the primary's inference view, RGB in [0, 1], [size, size, 3]: an exported model's input. */
  viewed: Float32Array[];
  /** CFA++: the same under the companion's view (the exported model's second input). */
  companionViewed?: Float32Array[];
}

export interface ImagePredictor {
  /** Side of the maps: the primary's inference view's output. */
  readonly size: number;
  predict(images: ImageInput[], onProgress?: (done: number, total: number) => void): Promise<ImagePrediction>;
  release(): Promise<void>;
}

const sameLevels = (a: EmbeddingLevel[], b: EmbeddingLevel[]) =>
  a.length === b.length &&
  a.every((l, i) => l.height === b[i].height && l.width === b[i].width && l.channels === b[i].channels);

/** Builds the embedders once; `predict` may then be called for any number of chunks of images. */
export async function createImagePredictor(
  model: TrainedModel,
  engine: EngineSelection,
  batchSize = 4,
): Promise<ImagePredictor> {
  const { method } = model;
  const embedders = new Map<number, Promise<FeatureExtractor>>();
  const embedderFor = (inputSize: number) => {
    let e = embedders.get(inputSize);
    if (!e) {
      e = method.createExtractor({ engine, backbone: model.backbone, inputSize, config: model.config });
      embedders.set(inputSize, e);
    }
    return e;
  };
  const runMember = async (
    member: TrainedMember,
    images: ImageInput[],
    onProgress?: (d: number, t: number) => void,
  ) => {
    const view = inferenceView(member.view);
    const inputSize = viewOutputSize(view);
    const embedder = await embedderFor(inputSize);
    if (!sameLevels(embedder.levels, member.levels))
      throw new Error(
        `predictImages: the ${member.role} model was fitted on embedding levels ${JSON.stringify(member.levels)}, the backbone gives ${JSON.stringify(embedder.levels)}`,
      );
    const viewed = images.map((x) => viewRasters({ image: x.image, view, sampleId: x.id }).image.data);
    const pyramids: Float32Array[] = [];
    const pixels = inputSize * inputSize * 3;
    for (let b = 0; b < viewed.length; b += batchSize) {
      const batch = viewed.slice(b, b + batchSize);
      const input = new Float32Array(batch.length * pixels);
      batch.forEach((v, i) => input.set(normalizeImageNet(v), i * pixels));
      pyramids.push(...(await embedder.embedPyramids(input, batch.length)));
      onProgress?.(Math.min(b + batchSize, viewed.length), viewed.length);
    }
    const set = memoryEmbeddingSet(
      images.map((x) => x.id),
      pyramids,
      embedder.levels,
    );
    const prediction = await method.predict({ model: member.fitted, test: set, inputSize, batchSize });
    return { prediction, viewed };
  };
  const [primary, companion] = model.members;
  return {
    size: viewOutputSize(inferenceView(primary.view)),
    async predict(images, onProgress) {
      if (images.length === 0) throw new Error('predictImages: no images');
      const total = images.length * model.members.length;
      const a = await runMember(primary, images, (d) => onProgress?.(d, total));
      if (!companion) return { ...a.prediction, viewed: a.viewed };
      const b = await runMember(companion, images, (d) => onProgress?.(images.length + d, total));
      return {
        ...combineViewPredictions({
          primaryView: inferenceView(primary.view),
          primary: a.prediction,
          companion: b.prediction,
          scoreMaps: methodImageScores(method, model.config),
        }),
        viewed: a.viewed,
        companionViewed: b.viewed,
      };
    },
    async release() {
      for (const e of embedders.values()) await (await e).release();
    },
  };
}
