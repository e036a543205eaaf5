/**
 * CFA's fit (anomalib `cfa/lightning_model.py`: `on_train_start` builds the memory bank, then the
 * epochs): initialise the descriptor, build the memory bank from the untrained descriptor, then
 * train for the configured epochs on batches of cached embeddings. Glue only; the maths lives in
 * the stage packages. The last epoch's model is kept: nothing here looks at test labels.
 *
 * @example
 * ```ts
 * const model = await fitCfa({ config, engine, train, onEpoch: (e) => console.log(e.loss) });
 * ```
 */
import { createRng, type EngineSelection } from '@cfa/tensor-runtime';
import {
  cloneCoordConvParams,
  type CoordConvParams,
  createCoordConvParams,
  createDescriptorRunner,
  type DescriptorRunner,
} from '@cfa/descriptor';
import {
  createNearestSearch,
  type MemoryBank,
  type NearestSearch,
  paperMemoryBank,
  referenceMemoryBank,
  RunningMean,
} from '@cfa/memory-bank';
import type { CfaConfig } from './config';
import {
  type EmbeddingSet,
  type EpochRecord as MethodEpochRecord,
  type FitProgress,
  readPyramids,
} from '@cfa/method-kit';
import { assertMemoryBankFits } from './memory-bank-fit';
import { createTrainer } from './trainer';

/** One epoch of CFA's training: the loss and its two terms, the radius r after the epoch. */
export interface EpochRecord extends MethodEpochRecord {
  lossAtt: number;
  lossRep: number;
  radius: number;
}

export type ProgressEvent = FitProgress;

/** A fitted model as plain data: `predictCfa` builds its own inference graph from it. */
export interface FittedCfa {
  config: CfaConfig;
  engine: EngineSelection;
  params: CoordConvParams;
  bank: MemoryBank;
  radius: number;
  height: number;
  width: number;
  history: EpochRecord[];
  timings: { bankSeconds: number; trainSeconds: number };
}

export interface FitOptions {
  config: CfaConfig;
  engine: EngineSelection;
  /** Train embeddings [H·W, D] per image. */
  train: EmbeddingSet;
  /** φ outputs = outMultiplier · D / γd (2 for EfficientNet in the reference code). */
  outMultiplier?: number;
  onProgress?: (event: ProgressEvent) => void;
  onEpoch?: (record: EpochRecord) => void;
  /**
   * After every epoch, the model as it stands (a snapshot: later epochs do not change it), for
   * per-epoch evaluation; awaited before the next epoch.
   */
  onEpochModel?: (model: FittedCfa, record: EpochRecord) => Promise<void>;
}

async function* phiPerImage(
  set: EmbeddingSet,
  images: number[],
  descriptor: DescriptorRunner,
  params: CoordConvParams,
  onDone: (i: number) => void,
): AsyncGenerator<Float32Array> {
  for (let i = 0; i < images.length; i++) {
    yield await descriptor.forwardPyramid(await set.pyramid(images[i]), params);
    onDone(i + 1);
  }
}

/**
 * The images the reference memory bank averages: all, or with `dropLast` those of the first
 * ⌊n/b⌋ batches of a seeded shuffle — the reference code builds its bank by iterating its train
 * DataLoader (shuffle, drop_last). With n a multiple of b that is every image, kept in order.
 */
export function bankImages(n: number, training: CfaConfig['training'], seed: number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  const kept = Math.floor(n / training.batchSize) * training.batchSize;
  if (!training.dropLast || kept === n) return all;
  const order = training.shuffle ? createRng(seed).fork('bank-batches').permutation(n) : all;
  return order.slice(0, kept).sort((a, b) => a - b);
}

/**
 * The image order of each epoch, one call per epoch: a fresh permutation of 0..n-1 from the
 * seed's `batches` stream with `shuffle` (as the reference's DataLoader(shuffle=True) draws one
 * per epoch), else 0..n-1.
 */
export function epochOrders(n: number, training: CfaConfig['training'], seed: number): () => number[] {
  const rng = createRng(seed).fork('batches');
  return () => (training.shuffle ? rng.permutation(n) : Array.from({ length: n }, (_, i) => i));
}

/** Batches of one epoch: a permutation cut into batches, the short last one dropped with `dropLast`. */
export function epochBatches(order: number[], training: CfaConfig['training']): number[][] {
  const { batchSize, dropLast } = training;
  const count = dropLast ? Math.floor(order.length / batchSize) : Math.ceil(order.length / batchSize);
  return Array.from({ length: count }, (_, b) => order.slice(b * batchSize, (b + 1) * batchSize));
}

async function buildBank(
  options: FitOptions,
  params: CoordConvParams,
  descriptor: DescriptorRunner,
  search: NearestSearch,
): Promise<MemoryBank> {
  const { config, train, onProgress } = options;
  const hw = train.height * train.width;
  const bankConfig = config.memoryBank;
  const all = Array.from({ length: train.ids.length }, (_, i) => i);
  // Algorithm 1 walks the train set image by image; the reference mean iterates the train loader
  const images = bankConfig.kind === 'paper' ? all : bankImages(all.length, config.training, config.seed);
  const total = images.length;
  const progress = (done: number) => onProgress?.({ phase: 'bank', done, total, detail: config.memoryBank.kind });
  if (bankConfig.kind === 'paper') {
    return paperMemoryBank({
      phis: phiPerImage(train, images, descriptor, params, progress),
      hw,
      dim: params.outChannels,
      gammaC: bankConfig.gammaC,
      beta: bankConfig.beta,
      seed: config.seed,
      search,
      kmeansMaxIter: bankConfig.kmeansMaxIter,
    });
  }
  const mean = new RunningMean(hw * params.outChannels);
  for await (const phi of phiPerImage(train, images, descriptor, params, progress)) mean.add(phi, 1);
  return referenceMemoryBank({
    meanPhi: mean.value(),
    hw,
    dim: params.outChannels,
    gammaC: bankConfig.gammaC,
    seed: config.seed,
    search,
    kmeansMaxIter: bankConfig.kmeansMaxIter,
  });
}

/** The epochs on batches of cached embeddings; the last epoch's weights stay in `params`. */
async function trainDescriptor(
  options: FitOptions,
  params: CoordConvParams,
  bank: MemoryBank,
  descriptor: DescriptorRunner,
  search: NearestSearch,
  snapshot: (radius: number, history: EpochRecord[]) => FittedCfa,
): Promise<{ history: EpochRecord[]; radius: number }> {
  const { config, engine, train, onProgress, onEpoch, onEpochModel } = options;
  const history: EpochRecord[] = [];
  const epochs = config.loss.terms === 'none' ? 0 : config.training.epochs;
  if (epochs === 0) return { history, radius: config.training.r0 };
  const trainer = await createTrainer({
    engine,
    params,
    bank,
    levels: train.levels,
    loss: config.loss,
    optimizer: config.optimizer,
    r0: config.training.r0,
    learnRadius: config.training.learnRadius,
    descriptor,
    search,
  });
  const n = train.ids.length;
  const nextOrder = epochOrders(n, config.training, config.seed);
  const batchesPerEpoch = epochBatches(new Array(n).fill(0), config.training).length;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const t0 = performance.now();
      const batches = epochBatches(nextOrder(), config.training);
      let loss = 0,
        lossAtt = 0,
        lossRep = 0;
      // the next batch is read (disk cache, float16 decode) while ONNX Runtime runs this one
      const read = (b: number) => readPyramids(train, batches[b]);
      let next = read(0);
      for (let b = 0; b < batchesPerEpoch; b++) {
        const images = await next;
        if (b + 1 < batchesPerEpoch) {
          next = read(b + 1);
          next.catch(() => {}); // a failed read surfaces when that batch is awaited
        }
        const step = await trainer.step(images);
        if (!Number.isFinite(step.loss))
          throw new Error(`fitCfa: the loss became ${step.loss} at epoch ${epoch}, batch ${b + 1}`);
        loss += step.loss / batchesPerEpoch;
        lossAtt += step.lossAtt / batchesPerEpoch;
        lossRep += step.lossRep / batchesPerEpoch;
        onProgress?.({
          phase: 'train',
          done: (epoch - 1) * batchesPerEpoch + b + 1,
          total: epochs * batchesPerEpoch,
          detail: `epoch ${epoch}/${epochs}`,
        });
      }
      const record = {
        epoch,
        loss,
        lossAtt,
        lossRep,
        radius: trainer.radius,
        seconds: (performance.now() - t0) / 1000,
      };
      history.push(record);
      onEpoch?.(record);
      if (onEpochModel) await onEpochModel(snapshot(trainer.radius, [...history]), record);
    }
    return { history, radius: trainer.radius };
  } finally {
    // the trainer shares the descriptor runner and search; release only its own parts
    await trainer.release();
  }
}

export async function fitCfa(options: FitOptions): Promise<FittedCfa> {
  const { config, engine, train } = options;
  if (train.ids.length === 0) throw new Error('fitCfa: the train set is empty');
  const { batchSize, dropLast } = config.training;
  if (dropLast && train.ids.length < batchSize && config.loss.terms !== 'none' && config.training.epochs > 0) {
    throw new Error(
      `fitCfa: ${train.ids.length} train images make no full batch of ${batchSize}, and training.dropLast drops the short one (as the reference code's DataLoader): set training.dropLast: false or a smaller training.batchSize`,
    );
  }
  const { height, width, channels } = train;
  assertMemoryBankFits(config, height * width);
  const params = createCoordConvParams({
    inChannels: channels,
    gammaD: config.descriptor.gammaD,
    outMultiplier: options.outMultiplier,
    withRadius: config.descriptor.withRadius,
    init: config.descriptor.init,
    seed: config.seed,
  });
  // these runners serve the bank and the step-by-step trainer only: predict builds its own graph
  const descriptor = await createDescriptorRunner({ engine, height, width, params, levels: train.levels });
  const search = await createNearestSearch({ engine, dim: params.outChannels });
  try {
    const bankStart = performance.now();
    const bank = await buildBank(options, params, descriptor, search);
    const bankSeconds = (performance.now() - bankStart) / 1000;
    const trainStart = performance.now();
    const fitted = (radius: number, history: EpochRecord[], p: CoordConvParams): FittedCfa => ({
      config,
      engine,
      params: p,
      bank,
      radius,
      height,
      width,
      history,
      timings: { bankSeconds, trainSeconds: (performance.now() - trainStart) / 1000 },
    });
    const { history, radius } = await trainDescriptor(options, params, bank, descriptor, search, (r, h) =>
      fitted(r, h, cloneCoordConvParams(params)),
    );
    return fitted(radius, history, params);
  } finally {
    await descriptor.release();
    await search.release();
  }
}
