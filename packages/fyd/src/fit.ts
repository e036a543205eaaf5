/**
 * FYD's fit, coarse to fine (docs/methods/fyd.md, "What runs"), glue over the stage packages:
 *
 * 1. image level (`alignment.image`): a spatial transformer on the train images, trained with the
 *    pairwise pixel loss on their small copies (`imageAlignmentStep`), then every train image warped
 *    to its pose;
 * 2. the frozen backbone on the aligned images (its maps are held for the epochs);
 * 3. feature level + fine (`alignment.feature`, `alignment.fine`): one spatial transformer per
 *    backbone map and the adaptor, trained together with the non-contrastive dense loss through
 *    the predictor (`fineAlignmentStep`); the transformers learn only from this loss;
 * 4. the per-position Gaussians of the adaptor's features of every train image
 *    (`fitPositionGaussians`).
 *
 * Nothing here looks at test labels; the last epoch's model is kept.
 *
 * @example
 * ```ts
 * const model = await fitFyd({ config, engine, backbone, train, onEpoch: (e) => console.log(e.loss) });
 * ```
 */
import { AdamW, createRng, type EngineSelection } from '@cfa/tensor-runtime';
import { type BackboneModel, createBackboneRunner } from '@cfa/backbone';
import {
  type AlignmentHeadParams,
  alignmentHeadTensors,
  areaPool,
  cloneAlignmentHeadParams,
  cloneSpatialTransformerParams,
  createAlignmentHeadParams,
  createAlignmentHeadRunner,
  createSpatialTransformerParams,
  type EmbeddingLevel,
  type PoseBounds,
  pyramidChannels,
  spatialTransform,
  type SpatialTransformerParams,
  spatialTransformerTensors,
} from '@cfa/descriptor';
import { fitPositionGaussians, type PositionGaussians } from '@cfa/memory-bank';
import type { EmbeddingSet, EpochRecord, FitProgress } from '@cfa/method-kit';
import type { FydConfig } from './config';
import { stackEmbedding, warpLevels } from './feature-alignment';
import { fineAlignmentStep, imageAlignmentStep } from './training-steps';

/** One epoch of the feature-level + fine stage. */
export interface FydEpochRecord extends EpochRecord {
  /** The image-level stage's loss after its last epoch (the same on every record; NaN without it). */
  imageLoss: number;
}

/** A fitted FYD member as plain data. */
export interface FittedFyd {
  config: FydConfig;
  engine: EngineSelection;
  backbone: BackboneModel;
  /** The view's side S (the images the member reads). */
  inputSize: number;
  /** The backbone maps' levels at S, the patch grid first. */
  levels: EmbeddingLevel[];
  imageStn?: SpatialTransformerParams;
  /** One per level with feature-level alignment. */
  featureStns?: SpatialTransformerParams[];
  head: AlignmentHeadParams;
  gaussians: PositionGaussians;
  history: FydEpochRecord[];
  /** The image-level stage's loss per epoch. */
  imageHistory: { epoch: number; loss: number; seconds: number }[];
  timings: { bankSeconds: number; trainSeconds: number };
}

/** The pose limits of the image-level transformer or of the feature-level ones (they differ in padding). */
export function poseBounds(config: FydConfig, level: 'image' | 'feature'): PoseBounds {
  const { maxShift, maxLogScale, rotation, imagePadding } = config.transformer;
  return { maxShift, maxLogScale, rotation, padding: level === 'image' ? imagePadding : 'zeros' };
}

/** Batches of one epoch: a permutation in chunks; a last image alone joins the batch before it (pairs need two). */
export function epochBatches(order: number[], batchSize: number): number[][] {
  const batches: number[][] = [];
  for (let b = 0; b < order.length; b += batchSize) batches.push(order.slice(b, b + batchSize));
  if (batches.length > 1 && batches[batches.length - 1].length === 1)
    batches[batches.length - 2].push(...batches.pop()!);
  return batches;
}

export interface FitFydOptions {
  config: FydConfig;
  engine: EngineSelection;
  backbone: BackboneModel;
  /** The train images (FYD's extractor stores the viewed, ImageNet-normalised images). */
  train: EmbeddingSet;
  onProgress?: (event: FitProgress) => void;
  onEpoch?: (record: FydEpochRecord) => void;
  onEpochModel?: (model: FittedFyd, record: FydEpochRecord) => Promise<void>;
}

async function readImages(train: EmbeddingSet): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < train.ids.length; i++) out.push(await train.get(i));
  return out;
}

/**
 * Stage 1 alone: the image transformer, trained on the images' small copies (`images`: viewed,
 * normalised [S, S, 3] each). `fitFyd` runs it first; a tool that looks only at the poses calls it
 * without the backbone.
 */
export function fitImageAlignment(
  images: Float32Array[],
  size: number,
  options: Pick<FitFydOptions, 'config' | 'onProgress'>,
): { params: SpatialTransformerParams; history: FittedFyd['imageHistory'] } {
  const { config, onProgress } = options;
  const { imagePool, hidden } = config.transformer;
  const { epochs, batchSize, lossSize } = config.imageAlignment;
  const bounds = poseBounds(config, 'image');
  const shape = [1, size, size, 3] as const;
  const pooled = images.map((x) => areaPool({ x, shape, size: imagePool }));
  const small = images.map((x) => areaPool({ x, shape, size: lossSize }));
  const params = createSpatialTransformerParams({ inChannels: 3, pool: imagePool, hidden, seed: config.seed });
  const optimizer = new AdamW(spatialTransformerTensors(params), { ...config.optimizer, lr: config.imageAlignment.lr });
  const rng = createRng(config.seed).fork('image-alignment-batches');
  const history: FittedFyd['imageHistory'] = [];
  const gather = (xs: Float32Array[], batch: number[]) => {
    const out = new Float32Array(batch.length * xs[0].length);
    batch.forEach((i, k) => out.set(xs[i], k * xs[0].length));
    return out;
  };
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const t0 = performance.now();
    const batches = epochBatches(rng.permutation(images.length), batchSize);
    let loss = 0;
    for (const batch of batches) {
      const step = imageAlignmentStep({
        batch: { count: batch.length, pooled: gather(pooled, batch), small: gather(small, batch), size: lossSize },
        params,
        bounds,
      });
      if (!Number.isFinite(step.loss))
        throw new Error(`fitFyd: the image-alignment loss became ${step.loss} at epoch ${epoch}`);
      optimizer.step(step.grads);
      loss += step.loss / batches.length;
    }
    history.push({ epoch, loss, seconds: (performance.now() - t0) / 1000 });
    onProgress?.({ phase: 'train', done: epoch, total: epochs, detail: `image alignment ${epoch}/${epochs}` });
  }
  return { params, history };
}

/** Every train image's backbone maps, per level [n, h, w, C]. */
async function backboneMaps(
  images: Float32Array[],
  size: number,
  options: FitFydOptions,
): Promise<{ maps: Float32Array[]; levels: EmbeddingLevel[] }> {
  const { engine, backbone, onProgress } = options;
  const runner = await createBackboneRunner({ engine, model: backbone, inputSize: size });
  try {
    const per: Float32Array[][] = [];
    let levels: EmbeddingLevel[] = [];
    const pixels = size * size * 3;
    for (let b = 0; b < images.length; b += 4) {
      const chunk = images.slice(b, b + 4);
      const input = new Float32Array(chunk.length * pixels);
      chunk.forEach((x, i) => input.set(x, i * pixels));
      const maps = await runner.forward(input, chunk.length);
      levels = maps.map((m) => ({ height: m.dims[1], width: m.dims[2], channels: m.dims[3] }));
      per.push(maps.map((m) => m.data));
      onProgress?.({ phase: 'bank', done: b + chunk.length, total: images.length, detail: 'backbone maps' });
    }
    const maps = levels.map((_, l) => {
      const out = new Float32Array(images.length * levels[l].height * levels[l].width * levels[l].channels);
      let offset = 0;
      for (const chunk of per) {
        out.set(chunk[l], offset);
        offset += chunk[l].length;
      }
      return out;
    });
    return { maps, levels };
  } finally {
    await runner.release();
  }
}

/** The images' slices of every level's maps. */
function sliceMaps(maps: Float32Array[], levels: EmbeddingLevel[], images: number[]): Float32Array[] {
  return levels.map((l, k) => {
    const n = l.height * l.width * l.channels;
    const out = new Float32Array(images.length * n);
    images.forEach((i, j) => out.set(maps[k].subarray(i * n, (i + 1) * n), j * n));
    return out;
  });
}

/** Stage 4: the adaptor's features of every train image → per-position Gaussians. */
async function fitGaussians(
  maps: Float32Array[],
  levels: EmbeddingLevel[],
  count: number,
  head: AlignmentHeadParams,
  featureStns: SpatialTransformerParams[] | undefined,
  options: FitFydOptions,
): Promise<PositionGaussians> {
  const { config, engine, onProgress } = options;
  const runner = await createAlignmentHeadRunner({ engine, params: head });
  const positions = levels[0].height * levels[0].width;
  try {
    return await fitPositionGaussians({
      count,
      positions,
      dim: head.dim,
      epsilon: config.gaussian.epsilon,
      read: async (i) => {
        const warped = warpLevels({
          maps: sliceMaps(maps, levels, [i]),
          count: 1,
          levels,
          stns: featureStns,
          bounds: poseBounds(config, 'feature'),
        });
        return runner.adapt(stackEmbedding(warped.maps, 1, levels), positions);
      },
      onProgress: (phase, done, total) => onProgress?.({ phase: 'bank', done, total, detail: `Gaussians: ${phase}` }),
    });
  } finally {
    await runner.release();
  }
}

export async function fitFyd(options: FitFydOptions): Promise<FittedFyd> {
  const { config, engine, backbone, train, onProgress, onEpoch, onEpochModel } = options;
  const n = train.ids.length;
  if (n < 2) throw new Error(`fitFyd: ${n} train image(s); the alignment losses compare images, at least 2 are needed`);
  if (train.channels !== 3 || train.height !== train.width)
    throw new Error(
      `fitFyd: the features must be the viewed images [S, S, 3] (FYD's extractor), got ${train.height}×${train.width}×${train.channels}`,
    );
  const size = train.height;
  const trainStart = performance.now();
  let images = await readImages(train);

  let imageStn: SpatialTransformerParams | undefined;
  let imageHistory: FittedFyd['imageHistory'] = [];
  if (config.alignment.image) {
    const trained = fitImageAlignment(images, size, options);
    imageStn = trained.params;
    imageHistory = trained.history;
    images = images.map(
      (x) =>
        spatialTransform({ x, shape: [1, size, size, 3], params: imageStn!, bounds: poseBounds(config, 'image') }).y,
    );
  }
  const { maps, levels } = await backboneMaps(images, size, options);
  images = [];

  const { dim, predictorHidden } = config.adaptor;
  const head = createAlignmentHeadParams({
    inChannels: pyramidChannels(levels),
    dim,
    predictorHidden,
    seed: config.seed,
  });
  const featureStns = config.alignment.feature
    ? levels.map((l, k) =>
        createSpatialTransformerParams({
          inChannels: l.channels,
          pool: config.transformer.featurePool,
          hidden: config.transformer.hidden,
          seed: config.seed + 1 + k,
        }),
      )
    : undefined;
  const history: FydEpochRecord[] = [];
  const imageLoss = imageHistory.length ? imageHistory[imageHistory.length - 1].loss : Number.NaN;
  let bankSeconds = 0;
  const snapshot = async (h: AlignmentHeadParams, stns: SpatialTransformerParams[] | undefined): Promise<FittedFyd> => {
    const bankStart = performance.now();
    const gaussians = await fitGaussians(maps, levels, n, h, stns, options);
    bankSeconds = (performance.now() - bankStart) / 1000;
    return {
      config,
      engine,
      backbone,
      inputSize: size,
      levels,
      ...(imageStn ? { imageStn } : {}),
      ...(stns ? { featureStns: stns } : {}),
      head: h,
      gaussians,
      history: [...history],
      imageHistory,
      timings: { bankSeconds, trainSeconds: (performance.now() - trainStart) / 1000 - bankSeconds },
    };
  };

  const trains = config.alignment.feature || config.alignment.fine;
  const epochs = trains ? config.training.epochs : 0;
  if (epochs > 0) {
    // the predictor always learns; the adaptor with `fine`, the transformers with `feature`
    const tensors = [
      ...(featureStns ?? []).flatMap(spatialTransformerTensors),
      ...alignmentHeadTensors(head).slice(config.alignment.fine ? 0 : 2),
    ];
    const optimizer = new AdamW(tensors, config.optimizer);
    const runner = await createAlignmentHeadRunner({ engine, params: head });
    const rng = createRng(config.seed).fork('fine-alignment-batches');
    try {
      for (let epoch = 1; epoch <= epochs; epoch++) {
        const t0 = performance.now();
        const order = config.training.shuffle ? rng.permutation(n) : Array.from({ length: n }, (_, i) => i);
        const batches = epochBatches(order, config.training.batchSize);
        let loss = 0;
        for (const [b, batch] of batches.entries()) {
          const step = await fineAlignmentStep({
            maps: sliceMaps(maps, levels, batch),
            count: batch.length,
            levels,
            stns: featureStns,
            bounds: poseBounds(config, 'feature'),
            head: runner,
            trainFeature: config.alignment.feature,
            trainAdaptor: config.alignment.fine,
          });
          if (!Number.isFinite(step.loss))
            throw new Error(`fitFyd: the fine-alignment loss became ${step.loss} at epoch ${epoch}`);
          optimizer.step([
            ...step.stnGrads.flatMap((g) => g ?? []),
            ...step.headGrads.slice(config.alignment.fine ? 0 : 2),
          ]);
          loss += step.loss / batches.length;
          onProgress?.({
            phase: 'train',
            done: (epoch - 1) * batches.length + b + 1,
            total: epochs * batches.length,
            detail: `feature + fine alignment ${epoch}/${epochs}`,
          });
        }
        const record: FydEpochRecord = { epoch, loss, seconds: (performance.now() - t0) / 1000, imageLoss };
        history.push(record);
        onEpoch?.(record);
        if (onEpochModel)
          await onEpochModel(
            await snapshot(cloneAlignmentHeadParams(head), featureStns?.map(cloneSpatialTransformerParams)),
            record,
          );
      }
    } finally {
      await runner.release();
    }
  }
  return snapshot(head, featureStns);
}
