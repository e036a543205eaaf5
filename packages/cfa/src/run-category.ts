/**
 * One CFA run on one MVTec-layout category, as a pure function of its config: index the data,
 * build the backbone and its embedder, embed train and test images (through the cache), fit, and
 * predict the test maps. Everything downstream (metrics, images, logging) works on what this
 * returns.
 *
 * With `ensemble: 'cfa++'` (paper §4.2) the same is done a second time on the resize-only
 * companion of the view (`companionView`), sharing the loaded backbone and its embedder, and the
 * two maps of every test image are averaged on the primary view's grid (`combineViewPredictions`).
 * The test samples (masks, labels) stay the primary view's.
 *
 * @example
 * ```ts
 * const run = await runCfaOnCategory({ config, root: 'data/synthetic', category: 'weave', engine });
 * run.prediction.imageScores; // one per test image
 * run.ensemble?.views;        // CFA++: ['center-crop:256:224', 'resize:224']
 * ```
 */
import type { EngineSelection } from '@cfa/tensor-runtime';
import {
  type CategoryIndex,
  companionView,
  indexCategory,
  type LoadedSample,
  type View,
  viewKey,
  viewOutputSize,
} from '@cfa/data';
import { type BackboneModel, loadBackbone } from '@cfa/backbone';
import { type CoordConvParams, createPatchEmbedder, type PatchEmbedder } from '@cfa/descriptor';
import type { MemoryBank } from '@cfa/memory-bank';
import type { CfaConfig } from './config';
import { type EmbeddingCache, MemoryEmbeddingCache } from './embedding-cache';
import { type EmbeddedSamples, embedSamples } from './embed-samples';
import type { EmbeddingSet } from './embedding-set';
import { type EpochRecord, fitCfa } from './fit';
import { type Prediction, predictCfa } from './predict';
import { combineViewPredictions } from './view-ensemble';

export type RunPhase = 'embed-train' | 'bank' | 'train' | 'embed-test' | 'predict';

export interface RunProgress {
  phase: RunPhase;
  done: number;
  total: number;
  detail?: string;
  /** CFA++ only: which of the two models the event is about. */
  view?: 'primary' | 'companion';
}

export interface RunTimings {
  embedTrainSeconds: number;
  bankSeconds: number;
  trainSeconds: number;
  embedTestSeconds: number;
  predictSeconds: number;
}

/** One of the two models of a CFA++ run, on its own view. */
export interface EnsembleMemberRun {
  view: View;
  /** On this view's own grid (the companion's covers the whole image). */
  prediction: Prediction;
  history: EpochRecord[];
  radius: number;
  bankSize: number;
  timings: RunTimings;
}

/** What a CFA++ run combined. */
export interface ViewEnsembleRun {
  kind: 'cfa++';
  /** `viewKey` of the two views whose maps were averaged, primary first. */
  views: [string, string];
  primary: EnsembleMemberRun;
  companion: EnsembleMemberRun;
}

export interface CategoryRun {
  backbone: Pick<BackboneModel, 'weightsSource'> & { name: string; featureChannels: number[] };
  inputSize: number;
  trainCount: number;
  /** The primary view's test samples (masks and labels for evaluation). */
  test: LoadedSample[];
  /** CFA++: the combined maps on the primary view's grid. */
  prediction: Prediction;
  /** The primary model's epochs (CFA++: the companion's are in `ensemble.companion.history`). */
  history: EpochRecord[];
  radius: number;
  bankSize: number;
  descriptorChannels: number;
  /** CFA++: summed over both models. */
  timings: RunTimings;
  /** CFA++: hits summed over both views. */
  cache: { description: string; trainHits: number; testHits: number };
  /** Present when `config.ensemble` is 'cfa++'. */
  ensemble?: ViewEnsembleRun;
  /**
   * The primary model as plain data, with the test set's embeddings: for pictures of the feature
   * space (paper Fig. 3). The descriptor before training is `createCoordConvParams` of the config.
   */
  model: PrimaryModel;
  /**
   * Deployed decision thresholds (image score, pixel score), when the run calibrated them on
   * held-out normal train images; absent otherwise.
   */
  thresholds?: { image: number; pixel: number };
}

export interface PrimaryModel {
  /** The trained descriptor φ. */
  params: CoordConvParams;
  /** The memory bank C (fixed while φ trains). */
  bank: MemoryBank;
  /** The primary view's test embeddings, in `test` order. */
  testEmbeddings: EmbeddingSet;
  /** φ outputs = outMultiplier · D / γd (the backbone's; 2 for EfficientNet). */
  outMultiplier: number;
}

export interface RunCategoryOptions {
  config: CfaConfig;
  root: string;
  category: string;
  engine: EngineSelection;
  cache?: EmbeddingCache;
  onProgress?: (event: RunProgress) => void;
  /** The primary model's epochs. */
  onEpoch?: (record: EpochRecord) => void;
  /** CFA++ only: the companion model's epochs (their own 1…epochs steps). */
  onCompanionEpoch?: (record: EpochRecord) => void;
}

interface ViewRun extends EnsembleMemberRun {
  train: EmbeddedSamples;
  test: EmbeddedSamples;
  descriptorChannels: number;
  params: CoordConvParams;
  bank: MemoryBank;
}

interface ViewRunOptions {
  config: CfaConfig;
  view: View;
  index: CategoryIndex;
  backbone: BackboneModel;
  embedder: PatchEmbedder;
  engine: EngineSelection;
  cache: EmbeddingCache;
  /** Keep the decoded test samples (the primary's: masks and labels for evaluation). */
  keepTestSamples: boolean;
  onProgress: (event: RunProgress) => void;
  onEpoch?: (record: EpochRecord) => void;
}

/** Embed, fit and predict on one view. */
async function runView({
  config,
  view,
  index,
  backbone,
  embedder,
  engine,
  cache,
  keepTestSamples,
  onProgress,
  onEpoch,
}: ViewRunOptions): Promise<ViewRun> {
  const inputSize = viewOutputSize(view);
  const train = await embedSamples({
    refs: index.train,
    view,
    embedder,
    backboneId: backbone.weightsSource.id,
    cache,
    onProgress: (done, total, cached) =>
      onProgress({ phase: 'embed-train', done, total, detail: cached ? `${cached} cached` : undefined }),
  });
  const fitted = await fitCfa({
    config: view === config.view ? config : { ...config, view },
    engine,
    train: train.set,
    outMultiplier: backbone.definition.embedding.outMultiplier,
    onProgress: (e) => onProgress({ phase: e.phase, done: e.done, total: e.total, detail: e.detail }),
    onEpoch,
  });
  const test = await embedSamples({
    refs: index.test,
    view,
    embedder,
    backboneId: backbone.weightsSource.id,
    cache,
    keepSamples: keepTestSamples,
    onProgress: (done, total, cached) =>
      onProgress({ phase: 'embed-test', done, total, detail: cached ? `${cached} cached` : undefined }),
  });
  const prediction = await predictCfa({
    model: fitted,
    test: test.set,
    inputSize,
    onProgress: (done, total) => onProgress({ phase: 'predict', done, total }),
  });
  return {
    view,
    train,
    test,
    prediction,
    history: fitted.history,
    radius: fitted.radius,
    bankSize: fitted.bank.size,
    descriptorChannels: fitted.params.outChannels,
    params: fitted.params,
    bank: fitted.bank,
    timings: {
      embedTrainSeconds: train.seconds,
      bankSeconds: fitted.timings.bankSeconds,
      trainSeconds: fitted.timings.trainSeconds,
      embedTestSeconds: test.seconds,
      predictSeconds: prediction.seconds,
    },
  };
}

const member = (r: ViewRun): EnsembleMemberRun => ({
  view: r.view,
  prediction: r.prediction,
  history: r.history,
  radius: r.radius,
  bankSize: r.bankSize,
  timings: r.timings,
});

export async function runCfaOnCategory(options: RunCategoryOptions): Promise<CategoryRun> {
  const { config, root, category, engine, onEpoch } = options;
  const cache = options.cache ?? new MemoryEmbeddingCache();
  const cfaPlusPlus = config.ensemble === 'cfa++';
  // the companion is resolved before any work, so a resize view fails at once
  const secondView = cfaPlusPlus ? companionView(config.view) : undefined;
  const index = await indexCategory({ root, category });
  const backbone = await loadBackbone({
    name: config.backbone.name,
    weightsPath: config.backbone.weights,
    allowPartial: config.backbone.allowPartial,
    calibrateBatchNorm: config.backbone.calibrateBatchNorm,
    seed: config.seed,
  });
  const inputSize = viewOutputSize(config.view);
  const embedder = await createPatchEmbedder({ engine, backbone, inputSize });
  let secondEmbedder: PatchEmbedder | undefined;
  try {
    const shared = { config, index, backbone, engine, cache };
    const progress = (view?: 'primary' | 'companion') => (e: RunProgress) =>
      options.onProgress?.(view ? { ...e, view } : e);
    const primary = await runView({
      ...shared,
      view: config.view,
      embedder,
      keepTestSamples: true,
      onProgress: progress(cfaPlusPlus ? 'primary' : undefined),
      onEpoch,
    });
    const base = {
      backbone: {
        name: backbone.definition.name,
        weightsSource: backbone.weightsSource,
        featureChannels: backbone.features.map((f) => f.channels),
      },
      inputSize,
      trainCount: index.train.length,
      test: primary.test.samples,
      history: primary.history,
      radius: primary.radius,
      bankSize: primary.bankSize,
      descriptorChannels: primary.descriptorChannels,
      model: {
        params: primary.params,
        bank: primary.bank,
        testEmbeddings: primary.test.set,
        outMultiplier: backbone.definition.embedding.outMultiplier,
      },
    };
    if (!secondView) {
      return {
        ...base,
        prediction: primary.prediction,
        timings: primary.timings,
        cache: { description: cache.description, trainHits: primary.train.cacheHits, testHits: primary.test.cacheHits },
      };
    }
    // both views give crop-sized inputs, so the embedder is shared; a second one only if not
    const secondSize = viewOutputSize(secondView);
    if (secondSize !== inputSize)
      secondEmbedder = await createPatchEmbedder({ engine, backbone, inputSize: secondSize });
    const companion = await runView({
      ...shared,
      view: secondView,
      embedder: secondEmbedder ?? embedder,
      keepTestSamples: false,
      onProgress: progress('companion'),
      onEpoch: options.onCompanionEpoch,
    });
    const prediction = combineViewPredictions({
      primaryView: config.view,
      primary: primary.prediction,
      companion: companion.prediction,
    });
    const sum = (key: keyof RunTimings) => primary.timings[key] + companion.timings[key];
    return {
      ...base,
      prediction,
      timings: {
        embedTrainSeconds: sum('embedTrainSeconds'),
        bankSeconds: sum('bankSeconds'),
        trainSeconds: sum('trainSeconds'),
        embedTestSeconds: sum('embedTestSeconds'),
        // both predictions and the alignment
        predictSeconds: prediction.seconds,
      },
      cache: {
        description: cache.description,
        trainHits: primary.train.cacheHits + companion.train.cacheHits,
        testHits: primary.test.cacheHits + companion.test.cacheHits,
      },
      ensemble: {
        kind: 'cfa++',
        views: [viewKey(config.view), viewKey(secondView)],
        primary: member(primary),
        companion: member(companion),
      },
    };
  } finally {
    await secondEmbedder?.release();
    await embedder.release();
  }
}
