/**
 * One CFA run on one MVTec-layout category, as a pure function of its config: index the data,
 * build the backbone and its embedder, embed train and test images (through the cache), fit, and
 * predict the test maps. Everything downstream (metrics, images, logging) works on what this
 * returns.
 *
 * @example
 * ```ts
 * const run = await runCfaOnCategory({ config, root: 'data/synthetic', category: 'weave', engine });
 * run.prediction.imageScores; // one per test image
 * ```
 */
import type { EngineSelection } from '@cfa/tensor-runtime';
import { indexCategory, type LoadedSample, viewOutputSize } from '@cfa/data';
import { type BackboneModel, loadBackbone } from '@cfa/backbone';
import { createPatchEmbedder } from '@cfa/descriptor';
import type { CfaConfig } from './config';
import { type EmbeddingCache, MemoryEmbeddingCache } from './embedding-cache';
import { embedSamples } from './embed-samples';
import { type EpochRecord, fitCfa, type FittedCfa } from './fit';
import { type Prediction, predictCfa } from './predict';

export type RunPhase = 'embed-train' | 'bank' | 'train' | 'embed-test' | 'predict';

export interface RunProgress {
  phase: RunPhase;
  done: number;
  total: number;
  detail?: string;
}

export interface CategoryRun {
  backbone: Pick<BackboneModel, 'weightsSource'> & { name: string; featureChannels: number[] };
  inputSize: number;
  trainCount: number;
  test: LoadedSample[];
  prediction: Prediction;
  history: EpochRecord[];
  radius: number;
  bankSize: number;
  descriptorChannels: number;
  timings: { embedTrainSeconds: number; bankSeconds: number; trainSeconds: number; embedTestSeconds: number; predictSeconds: number };
  cache: { description: string; trainHits: number; testHits: number };
}

export interface RunCategoryOptions {
  config: CfaConfig;
  root: string;
  category: string;
  engine: EngineSelection;
  cache?: EmbeddingCache;
  onProgress?: (event: RunProgress) => void;
  onEpoch?: (record: EpochRecord) => void;
}

export async function runCfaOnCategory(options: RunCategoryOptions): Promise<CategoryRun> {
  const { config, root, category, engine, onProgress, onEpoch } = options;
  const cache = options.cache ?? new MemoryEmbeddingCache();
  const index = await indexCategory({ root, category });
  const backbone = await loadBackbone({
    name: config.backbone.name, weightsPath: config.backbone.weights, allowPartial: config.backbone.allowPartial,
    calibrateBatchNorm: config.backbone.calibrateBatchNorm, seed: config.seed,
  });
  const inputSize = viewOutputSize(config.view);
  const embedder = await createPatchEmbedder({ engine, backbone, inputSize });
  let fitted: FittedCfa | undefined;
  try {
    const train = await embedSamples({
      refs: index.train, view: config.view, embedder, backboneId: backbone.weightsSource.id, cache,
      onProgress: (done, total, cached) => onProgress?.({ phase: 'embed-train', done, total, detail: cached ? `${cached} cached` : undefined }),
    });
    fitted = await fitCfa({
      config, engine, train: train.set,
      outMultiplier: backbone.definition.embedding.outMultiplier,
      onProgress: (e) => onProgress?.({ phase: e.phase, done: e.done, total: e.total, detail: e.detail }),
      onEpoch,
    });
    const test = await embedSamples({
      refs: index.test, view: config.view, embedder, backboneId: backbone.weightsSource.id, cache, keepSamples: true,
      onProgress: (done, total, cached) => onProgress?.({ phase: 'embed-test', done, total, detail: cached ? `${cached} cached` : undefined }),
    });
    const prediction = await predictCfa({
      model: fitted, test: test.set, inputSize,
      onProgress: (done, total) => onProgress?.({ phase: 'predict', done, total }),
    });
    return {
      backbone: { name: backbone.definition.name, weightsSource: backbone.weightsSource, featureChannels: backbone.features.map((f) => f.channels) },
      inputSize,
      trainCount: index.train.length,
      test: test.samples,
      prediction,
      history: fitted.history,
      radius: fitted.radius,
      bankSize: fitted.bank.size,
      descriptorChannels: fitted.params.outChannels,
      timings: {
        embedTrainSeconds: train.seconds,
        bankSeconds: fitted.timings.bankSeconds,
        trainSeconds: fitted.timings.trainSeconds,
        embedTestSeconds: test.seconds,
        predictSeconds: prediction.seconds,
      },
      cache: { description: cache.description, trainHits: train.cacheHits, testHits: test.cacheHits },
    };
  } finally {
    await fitted?.release();
    await embedder.release();
  }
}
