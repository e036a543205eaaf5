/**
 * CRAD's fit (reference `tools/train_val.py` `main` + `train_one_epoch`): a fresh model as the
 * reference constructs it, then the epochs — each a seeded permutation of the train features cut
 * into batches (the last one short, as its DataLoader without drop_last), each batch one training
 * step whose coin adds coordinate noise with probability `noiseProbability` — with StepLR stepped
 * per epoch. The step runs on the selected engine: ONNX Runtime as one graph with the backward pass
 * written out (ort-train-step.ts), TensorFlow.js by autograd (train-step.ts); both compute the
 * reference's step (official-parity.spec.ts). Glue only: the maths is in the stage packages. The last epoch's
 * model is kept; nothing here reads test labels.
 *
 * In the unified setting the train set is the union of several categories' (method-kit
 * `runMethodOnCategories`): a permutation of the union mixes them in every batch, as the
 * reference's one dataset over every category's train images does.
 *
 * @example
 * ```ts
 * const model = await fitCrad({ config, engine, train, onEpoch: (e) => console.log(e.loss) });
 * ```
 */
import { createRng, type EngineSelection } from '@cfa/tensor-runtime';
import type { StateDict } from '@cfa/backbone';
import { type EmbeddingSet, type EpochRecord, type FitProgress, readEmbeddings, stackImages } from '@cfa/method-kit';
import type { CradConfig } from './config';
import { cloneState, type FeatureGrid, initCradState } from './crad-state';
import { createOrtCradTrainStep } from './ort-train-step';
import { cradTrainStep, createCradOptimizer, type TrainStepResult } from './train-step';

/** A fitted model as plain data: the scorer builds its own graph from it. */
export interface FittedCrad {
  config: CradConfig;
  engine: EngineSelection;
  state: StateDict;
  grid: FeatureGrid;
  history: EpochRecord[];
  timings: { bankSeconds: number; trainSeconds: number };
}

export interface FitCradOptions {
  config: CradConfig;
  engine: EngineSelection;
  /** Train features [h·w, C] per image (the MFCN neck's). */
  train: EmbeddingSet;
  onProgress?: (event: FitProgress) => void;
  onEpoch?: (record: EpochRecord) => void;
  onEpochModel?: (model: FittedCrad, record: EpochRecord) => Promise<void>;
}

/** Batches of one epoch: the order cut into `batchSize` pieces, the last one short (no drop_last). */
export function epochBatches(order: number[], batchSize: number): number[][] {
  return Array.from({ length: Math.ceil(order.length / batchSize) }, (_, b) =>
    order.slice(b * batchSize, (b + 1) * batchSize),
  );
}

export async function fitCrad(options: FitCradOptions): Promise<FittedCrad> {
  const { config, engine, train, onProgress, onEpoch, onEpochModel } = options;
  const n = train.ids.length;
  if (n === 0) throw new Error('fitCrad: the train set is empty');
  const grid: FeatureGrid = { channels: train.channels, height: train.height, width: train.width };
  const state = initCradState(config, grid);
  const t = config.training;
  const optimizer = createCradOptimizer(state, t);
  // ONNX Runtime: the step as one graph with its backward written out; TensorFlow.js: autograd
  const ort =
    engine.name === 'ort'
      ? await createOrtCradTrainStep({ engine, state, grid, blend: config.scoring, memory: config.memory })
      : undefined;
  const trainStep = (features: Float32Array, batch: number, noise?: Float32Array): Promise<TrainStepResult> =>
    ort
      ? ort.step({ features, batch, noise })
      : cradTrainStep({ state, features, batch, grid, blend: config.scoring, noise });
  const batchRng = createRng(config.seed).fork('batches');
  const noiseRng = createRng(config.seed).fork('coordinate-noise');
  const history: EpochRecord[] = [];
  const start = performance.now();
  const perEpoch = Math.ceil(n / t.batchSize);
  const noiseValues = t.batchSize * grid.height * grid.width * 2;
  try {
    for (let epoch = 0; epoch < t.epochs; epoch++) {
      const t0 = performance.now();
      const order = t.shuffle ? batchRng.permutation(n) : Array.from({ length: n }, (_, i) => i);
      const batches = epochBatches(order, t.batchSize);
      let loss = 0,
        gradNorm = 0;
      // the next batch is read (disk cache, float16 decode) while this one trains
      const read = (b: number) => readEmbeddings(train, batches[b]);
      let next = read(0);
      for (let b = 0; b < batches.length; b++) {
        const images = await next;
        if (b + 1 < batches.length) {
          next = read(b + 1);
          next.catch(() => {}); // a failed read surfaces when that batch is awaited
        }
        const batch = batches[b].length;
        const noisy = noiseRng.next() < t.noiseProbability;
        const noise = noisy
          ? Float32Array.from({ length: (noiseValues / t.batchSize) * batch }, () => t.noiseStd * noiseRng.normal())
          : undefined;
        const step = await trainStep(stackImages(images), batch, noise);
        if (!Number.isFinite(step.loss))
          throw new Error(`fitCrad: the loss became ${step.loss} at epoch ${epoch + 1}, batch ${b + 1}`);
        gradNorm += optimizer.step(step.grads, epoch) / batches.length;
        loss += step.loss / batches.length;
        onProgress?.({
          phase: 'train',
          done: epoch * perEpoch + b + 1,
          total: t.epochs * perEpoch,
          detail: `epoch ${epoch + 1}/${t.epochs}`,
        });
      }
      const record: EpochRecord = { epoch: epoch + 1, loss, gradNorm, seconds: (performance.now() - t0) / 1000 };
      history.push(record);
      onEpoch?.(record);
      if (onEpochModel)
        await onEpochModel(
          {
            config,
            engine,
            state: cloneState(state),
            grid,
            history: [...history],
            timings: { bankSeconds: 0, trainSeconds: (performance.now() - start) / 1000 },
          },
          record,
        );
    }
  } finally {
    await ort?.release();
  }
  return {
    config,
    engine,
    state,
    grid,
    history,
    timings: { bankSeconds: 0, trainSeconds: (performance.now() - start) / 1000 },
  };
}
