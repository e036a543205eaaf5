/**
 * One run of a method on one MVTec-layout category, as a pure function of its config: index the
 * data, build the backbone and the method's feature extractor, embed train and test images
 * (through the cache), fit, and predict the test maps. Everything downstream (metrics, images,
 * logging) works on what this returns, whatever the method.
 *
 * With `ensemble: 'cfa++'` (CFA paper §4.2) the same is done a second time on the resize-only
 * companion of the view (`companionView`), sharing the loaded backbone (and its extractor when the
 * sizes agree), and the two maps of every test image are averaged on the primary view's grid
 * (`combineViewPredictions`). The test samples (masks, labels) stay the primary view's.
 *
 * With `trainCategories` (the unified setting, `AnomalyMethod.unified`) the model is fitted on the
 * train images of all those categories together (their refs concatenated; the method's own
 * shuffling mixes them in batches, as CRAD's data builder does) and evaluated on `category`'s test
 * set. A `sharedFits` store lets the cells of a sweep that differ only in the evaluated category
 * reuse one fit instead of repeating it per category (same config, data root and categories).
 *
 * With `calibration.holdout > 0` a seeded fraction of train/good is left out of the fit and scored
 * by the fitted model (an ensemble: both members, maps combined); the image and pixel thresholds are
 * set from those normal scores (`calibrateThresholds`). `run.model` is the trained model itself,
 * for `saveModel` and `buildOnnxModel`.
 *
 * @example
 * ```ts
 * const run = await runMethodOnCategory({ method: cfaMethod, config, root: 'data/synthetic', category: 'weave', engine });
 * run.prediction.imageScores; // one per test image
 * run.ensemble?.views;        // CFA++: ['center-crop:256:224', 'resize:224']
 * run.thresholds?.pixel;      // from the held-out train images, never from test labels
 * ```
 */
import type { EngineSelection } from '@cfa/tensor-runtime';
import {
  type CategoryIndex,
  checkCategoryFiles,
  companionView,
  indexCategory,
  type LoadedSample,
  type SampleRef,
  type View,
  viewKey,
  viewOutputSize,
} from '@cfa/data';
import { type BackboneModel, loadBackbone } from '@cfa/backbone';
import { calibrateThresholds, splitHoldout, type Thresholds } from './calibration';
import { evaluatesEveryEpoch, type MethodConfigBase } from './common-config';
import { type EmbeddingCache, MemoryEmbeddingCache } from './embedding-cache';
import { type EmbeddedSamples, embedSamples } from './embed-samples';
import type { EmbeddingSet } from './embedding-set';
import type { AnomalyMethod, EpochRecord, FeatureExtractor } from './method';
import type { Prediction } from './prediction';
import type { MemberRole, TrainedMember, TrainedModel } from './trained-model';
import { combineViewPredictions, methodImageScores } from './view-ensemble';

export type RunPhase = 'check-files' | 'embed-train' | 'bank' | 'train' | 'embed-test' | 'predict' | 'calibrate';

export interface RunProgress {
  phase: RunPhase;
  done: number;
  total: number;
  detail?: string;
  /** Ensembles only: which of the two models the event is about. */
  view?: MemberRole;
}

export interface RunTimings {
  embedTrainSeconds: number;
  /** Building what the model keeps (memory bank, coreset, Gaussians). */
  bankSeconds: number;
  trainSeconds: number;
  embedTestSeconds: number;
  predictSeconds: number;
  /** Embedding and scoring the held-out train images that set the thresholds (0 without). */
  calibrateSeconds: number;
}

/** The method's numbers describing a fitted member (`AnomalyMethod.summary`). */
export type ModelSummary = ReturnType<AnomalyMethod['summary']>;

/** One of the two models of an ensemble run, on its own view. */
export interface EnsembleMemberRun {
  view: View;
  /** On this view's own grid (the companion's covers the whole image). */
  prediction: Prediction;
  history: EpochRecord[];
  summary: ModelSummary;
  timings: RunTimings;
}

/** What an ensemble run combined. */
export interface ViewEnsembleRun {
  kind: 'cfa++';
  /** `viewKey` of the two views whose maps were averaged, primary first. */
  views: [string, string];
  primary: EnsembleMemberRun;
  companion: EnsembleMemberRun;
}

export interface CategoryRun<C extends MethodConfigBase = MethodConfigBase, F = unknown> {
  backbone: Pick<BackboneModel, 'weightsSource'> & { name: string; featureChannels: number[] };
  inputSize: number;
  /** Train images the model was fitted on (train/good minus the calibration hold-out). */
  trainCount: number;
  /** Train images held out to set the thresholds (`config.calibration.holdout`). */
  calibrationCount: number;
  /** The primary view's test samples (masks and labels for evaluation). */
  test: LoadedSample[];
  /** Ensembles: the combined maps on the primary view's grid. */
  prediction: Prediction;
  /** The primary model's epochs (an ensemble's companion's are in `ensemble.companion.history`). */
  history: EpochRecord[];
  /** The primary model's numbers (`AnomalyMethod.summary`). */
  summary: ModelSummary;
  /** Ensembles: summed over both models. */
  timings: RunTimings;
  /** Ensembles: hits summed over both views. */
  cache: { description: string; trainHits: number; testHits: number };
  /** Present when `config.ensemble` is 'cfa++'. */
  ensemble?: ViewEnsembleRun;
  /**
   * The deployed thresholds, from the held-out train images (absent when nothing was held out).
   * The test set's F1-optimal thresholds are metrics, never these.
   */
  thresholds?: Thresholds;
  /** The trained model (method, backbone, fitted members, thresholds), for `saveModel` and `buildOnnxModel`. */
  model: TrainedModel<C, F>;
  /** The primary view's test features, in `test` order (pictures of the feature space, paper Fig. 3). */
  testEmbeddings: EmbeddingSet;
}

export interface RunCategoryOptions<C extends MethodConfigBase, F> {
  method: AnomalyMethod<C, F>;
  config: C;
  root: string;
  category: string;
  engine: EngineSelection;
  cache?: EmbeddingCache;
  onProgress?: (event: RunProgress) => void;
  /** The primary model's epochs. */
  onEpoch?: (record: EpochRecord) => void;
  /** Ensembles only: the companion model's epochs (their own 1…epochs steps). */
  onCompanionEpoch?: (record: EpochRecord) => void;
  /**
   * With `evaluation.everyEpoch` (or selection 'best-on-test'): the test maps after every epoch,
   * with the test samples (masks, labels); awaited before the next epoch.
   */
  onEpochPrediction?: (event: { record: EpochRecord; prediction: Prediction; test: LoadedSample[] }) => Promise<void>;
  /**
   * The unified setting: fit on the train images of these categories together (they must include
   * `category`), evaluate on `category`'s test set. Absent: `category`'s own train images.
   */
  trainCategories?: string[];
  /** Fits kept across calls (a sweep's unified cells share one); keyed by config, root and categories. */
  sharedFits?: SharedFits;
}

/**
 * Fitted models kept for reuse by later runs with the same config, data root and train categories
 * (the unified setting's cells); holds at most `capacity` (default 1), the oldest dropped first.
 */
export class SharedFits {
  private readonly fits = new Map<string, Promise<unknown>>();
  constructor(private readonly capacity = 1) {}
  /** The fit under `key`, made by `make` if absent (a failed fit is not kept). */
  get<F>(key: string, make: () => Promise<F>): Promise<F> {
    const held = this.fits.get(key);
    if (held) return held as Promise<F>;
    const made = make();
    this.fits.set(key, made);
    made.catch(() => this.fits.delete(key));
    while (this.fits.size > this.capacity) this.fits.delete(this.fits.keys().next().value!);
    return made;
  }
}

interface ViewRun<F> extends EnsembleMemberRun {
  train: EmbeddedSamples;
  test: EmbeddedSamples;
  /** The held-out train images' prediction, when any were held out. */
  heldOut?: Prediction;
  member: TrainedMember<F>;
}

interface ViewRunOptions<C extends MethodConfigBase, F> {
  method: AnomalyMethod<C, F>;
  config: C;
  view: View;
  role: MemberRole;
  index: CategoryIndex;
  /** The split of `index.train`: fitted on, and held out for the thresholds. */
  fitRefs: SampleRef[];
  holdoutRefs: SampleRef[];
  backbone: BackboneModel;
  extractor: FeatureExtractor;
  engine: EngineSelection;
  cache: EmbeddingCache;
  /** Keep the decoded test samples (the primary's: masks and labels for evaluation). */
  keepTestSamples: boolean;
  onProgress: (event: RunProgress) => void;
  onEpoch?: (record: EpochRecord) => void;
  onEpochPrediction?: RunCategoryOptions<C, F>['onEpochPrediction'];
  /** Where the fit may come from an earlier identical one (the unified setting), and under which key. */
  shared?: { fits: SharedFits; key: string };
}

/** Embed, fit and predict on one view. */
async function runView<C extends MethodConfigBase, F>(options: ViewRunOptions<C, F>): Promise<ViewRun<F>> {
  const { method, config, view, role, index, fitRefs, holdoutRefs, backbone, extractor, engine, cache } = options;
  const { keepTestSamples, onProgress, onEpoch, onEpochPrediction } = options;
  const inputSize = viewOutputSize(view);
  const embed = (refs: SampleRef[], phase: 'embed-train' | 'embed-test' | 'calibrate', keepSamples = false) =>
    embedSamples({
      refs,
      view,
      embedder: extractor,
      backboneId: backbone.featureId,
      cache,
      keepSamples,
      onProgress: (done, total, cached) =>
        onProgress({ phase, done, total, detail: cached ? `${cached} cached` : undefined }),
    });
  // per-epoch evaluation (the CFA reference code's protocol) needs the test set before training
  const everyEpoch = evaluatesEveryEpoch(config.evaluation) && onEpochPrediction !== undefined;
  const earlyTest = everyEpoch ? await embed(index.test, 'embed-test', keepTestSamples) : undefined;
  let fittedHere = false;
  const fit = async () => {
    fittedHere = true;
    const train = await embed(fitRefs, 'embed-train');
    const fitted = await method.fit({
      config: view === config.view ? config : { ...config, view },
      engine,
      backbone,
      train: train.set,
      onProgress: (e) => onProgress({ phase: e.phase, done: e.done, total: e.total, detail: e.detail }),
      onEpoch,
      onEpochModel: earlyTest
        ? async (model, record) => {
            const prediction = await method.predict({ model, test: earlyTest.set, inputSize });
            await onEpochPrediction!({ record, prediction, test: earlyTest.samples });
          }
        : undefined,
    });
    return { train, fitted };
  };
  // per-epoch evaluation is of this category's test set: such a fit is never shared
  const shared = everyEpoch ? undefined : options.shared;
  const { train, fitted } = shared ? await shared.fits.get(`${shared.key}|${role}`, fit) : await fit();
  const test = earlyTest ?? (await embed(index.test, 'embed-test', keepTestSamples));
  const prediction = await method.predict({
    model: fitted,
    test: test.set,
    inputSize,
    onProgress: (done, total) => onProgress({ phase: 'predict', done, total }),
  });
  let heldOut: Prediction | undefined;
  const calibrateStart = performance.now();
  if (holdoutRefs.length) {
    const held = await embed(holdoutRefs, 'calibrate');
    heldOut = await method.predict({
      model: fitted,
      test: held.set,
      inputSize,
      onProgress: (done, total) => onProgress({ phase: 'calibrate', done, total }),
    });
  }
  // a fit reused from an earlier run cost this run nothing (its history still says how it went)
  const { bankSeconds, trainSeconds } = fittedHere ? method.fitSeconds(fitted) : { bankSeconds: 0, trainSeconds: 0 };
  return {
    view,
    train,
    test,
    prediction,
    heldOut,
    member: { role, view, levels: extractor.levels, fitted },
    history: method.history(fitted),
    summary: method.summary(fitted),
    timings: {
      embedTrainSeconds: fittedHere ? train.seconds : 0,
      bankSeconds,
      trainSeconds,
      embedTestSeconds: test.seconds,
      predictSeconds: prediction.seconds,
      calibrateSeconds: holdoutRefs.length ? (performance.now() - calibrateStart) / 1000 : 0,
    },
  };
}

const memberRun = <F>(r: ViewRun<F>): EnsembleMemberRun => ({
  view: r.view,
  prediction: r.prediction,
  history: r.history,
  summary: r.summary,
  timings: r.timings,
});

export async function runMethodOnCategory<C extends MethodConfigBase, F>(
  options: RunCategoryOptions<C, F>,
): Promise<CategoryRun<C, F>> {
  const { method, config, root, category, engine, onEpoch } = options;
  const cache = options.cache ?? new MemoryEmbeddingCache();
  const twoViews = config.ensemble === 'cfa++';
  // the companion is resolved before any work, so a resize view fails at once
  const secondView = twoViews ? companionView(config.view) : undefined;
  // everything that can be found wrong is found before the first image is embedded: the files
  // (every header, every mask), the weights, and whether the method's config fits the patch grid
  const index = await indexCategory({ root, category });
  const trainCategories = options.trainCategories;
  if (trainCategories && !trainCategories.includes(category))
    throw new Error(
      `trainCategories (${trainCategories.join(', ')}) must include the evaluated category '${category}'`,
    );
  const others = await Promise.all(
    (trainCategories ?? []).filter((c) => c !== category).map((c) => indexCategory({ root, category: c })),
  );
  for (const i of [index, ...others])
    await checkCategoryFiles(i, {
      onProgress: (done, total) => options.onProgress?.({ phase: 'check-files', done, total, detail: i.category }),
    });
  // unified: every listed category's train images, in the listed order, ids prefixed by category
  const trainRefs = trainCategories
    ? trainCategories.flatMap((c) =>
        (c === category ? index : others.find((o) => o.category === c)!).train.map((r) => ({
          ...r,
          id: `${c}/${r.id}`,
        })),
      )
    : index.train;
  const { fit: fitRefs, holdout: holdoutRefs } = splitHoldout(trainRefs, config.calibration.holdout, config.seed);
  const shared =
    trainCategories && options.sharedFits
      ? {
          fits: options.sharedFits,
          key: JSON.stringify([method.name, root, trainCategories, config]),
        }
      : undefined;
  const backbone = await loadBackbone({
    name: config.backbone.name,
    taps: config.backbone.taps,
    weightsPath: config.backbone.weights,
    allowPartial: config.backbone.allowPartial,
    calibrateBatchNorm: config.backbone.calibrateBatchNorm,
    seed: config.seed,
  });
  const inputSize = viewOutputSize(config.view);
  const extractor = await method.createExtractor({ engine, backbone, inputSize, config });
  let secondExtractor: FeatureExtractor | undefined;
  try {
    // both views give crop-sized inputs, so the extractor is shared; a second one only if not
    const secondSize = secondView ? viewOutputSize(secondView) : inputSize;
    if (secondSize !== inputSize)
      secondExtractor = await method.createExtractor({ engine, backbone, inputSize: secondSize, config });
    for (const e of [extractor, ...(secondExtractor ? [secondExtractor] : [])]) {
      const { height, width } = e.levels[0];
      method.checkGrid?.(config, { height, width, label: `${height}×${width} = ${height * width} patches` });
    }
    const common = { method, config, index, fitRefs, holdoutRefs, backbone, engine, cache, shared };
    const progress = (view?: MemberRole) => (e: RunProgress) => options.onProgress?.(view ? { ...e, view } : e);
    const primary = await runView({
      ...common,
      view: config.view,
      role: 'primary',
      extractor,
      keepTestSamples: true,
      onProgress: progress(twoViews ? 'primary' : undefined),
      onEpoch,
      onEpochPrediction: options.onEpochPrediction,
    });
    const base = {
      backbone: {
        name: backbone.definition.name,
        weightsSource: backbone.weightsSource,
        featureChannels: backbone.features.map((f) => f.channels),
      },
      inputSize,
      trainCount: fitRefs.length,
      calibrationCount: holdoutRefs.length,
      test: primary.test.samples,
      history: primary.history,
      summary: primary.summary,
      testEmbeddings: primary.test.set,
    };
    const trained = (members: TrainedMember<F>[], heldOut?: Prediction) => {
      const thresholds = heldOut ? calibrateThresholds(heldOut, config.calibration) : undefined;
      const model: TrainedModel<C, F> = { method, config, backbone, members, ...(thresholds ? { thresholds } : {}) };
      return { model, ...(thresholds ? { thresholds } : {}) };
    };
    if (!secondView) {
      return {
        ...base,
        prediction: primary.prediction,
        timings: primary.timings,
        cache: { description: cache.description, trainHits: primary.train.cacheHits, testHits: primary.test.cacheHits },
        ...trained([primary.member], primary.heldOut),
      };
    }
    const companion = await runView({
      ...common,
      view: secondView,
      role: 'companion',
      extractor: secondExtractor ?? extractor,
      keepTestSamples: false,
      onProgress: progress('companion'),
      onEpoch: options.onCompanionEpoch,
    });
    const scoreMaps = methodImageScores(method, config);
    const prediction = combineViewPredictions({
      primaryView: config.view,
      primary: primary.prediction,
      companion: companion.prediction,
      sources: primary.test.samples.map((s) => s.source),
      scoreMaps,
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
        calibrateSeconds: sum('calibrateSeconds'),
      },
      cache: {
        description: cache.description,
        trainHits: primary.train.cacheHits + companion.train.cacheHits,
        testHits: primary.test.cacheHits + companion.test.cacheHits,
      },
      ensemble: {
        kind: 'cfa++',
        views: [viewKey(config.view), viewKey(secondView)],
        primary: memberRun(primary),
        companion: memberRun(companion),
      },
      // the thresholds hold for what the ensemble deploys: the combined maps of the held-out images
      ...trained(
        [primary.member, companion.member],
        primary.heldOut &&
          companion.heldOut &&
          combineViewPredictions({
            primaryView: config.view,
            primary: primary.heldOut,
            companion: companion.heldOut,
            scoreMaps,
          }),
      ),
    };
  } finally {
    await secondExtractor?.release();
    await extractor.release();
  }
}
