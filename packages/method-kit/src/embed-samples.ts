/**
 * Images → cached patch embeddings for a list of samples: the embedding of an image is looked up
 * by (image bytes, view, backbone weights, input size) and computed only on a miss, in batches,
 * while the next images decode (loading runs ahead of the engine).
 *
 * @example
 * ```ts
 * const { set, samples } = await embedSamples({ refs: index.train, view, embedder, backboneId: model.featureId, cache });
 * ```
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DatasetError, loadSample, type LoadedSample, type SampleRef, type View, viewKey } from '@cfa/data';
import type { FeatureExtractor } from './method';
import { type EmbeddingCache, embeddingKey, MemoryEmbeddingCache } from './embedding-cache';
import { cachedEmbeddingSet, type EmbeddingSet, memoryEmbeddingSet } from './embedding-set';

export interface EmbedSamplesOptions {
  refs: SampleRef[];
  view: View;
  /** The method's images → features runner; its `kind` is part of the cache key. */
  embedder: FeatureExtractor;
  /** Identity of the backbone's feature function: architecture, taps, weights (`featureId`). */
  backboneId: string;
  cache?: EmbeddingCache;
  batchSize?: number;
  /** Keep the decoded samples (test split: masks, and images for heatmaps). */
  keepSamples?: boolean;
  onProgress?: (done: number, total: number, cached: number) => void;
}

export interface EmbeddedSamples {
  set: EmbeddingSet;
  /** Decoded samples, in order, when `keepSamples` (else empty). */
  samples: LoadedSample[];
  /** How many embeddings came from the cache. */
  cacheHits: number;
  seconds: number;
}

/**
 * The part of the cache key that names the view; random views differ per sample. A bilinear view
 * reads 8-bit sources on Pillow's fixed-point path (`resizeBilinearPillow`) since entries tagged
 * `pillow8`; the untagged ones were resized in floating point, so they are misses.
 */
export function sampleViewKey(view: View, ref: SampleRef): string {
  const key = view.filter === 'bilinear' ? `${viewKey(view)}:pillow8` : viewKey(view);
  return view.kind === 'rd-mvtec' ? `${key}|${ref.id}` : key;
}

async function sourceHash(ref: SampleRef): Promise<string> {
  const bytes = await readFile(ref.imagePath).catch((error: NodeJS.ErrnoException) => {
    throw new DatasetError(ref.imagePath, `cannot read (${error.code ?? error.message})`);
  });
  return createHash('sha256').update(bytes).digest('hex');
}

export async function embedSamples(options: EmbedSamplesOptions): Promise<EmbeddedSamples> {
  const { refs, view, embedder, backboneId, batchSize = 4, keepSamples = false, onProgress } = options;
  const cache = options.cache ?? new MemoryEmbeddingCache();
  const start = performance.now();
  const keys: string[] = [];
  const samples: LoadedSample[] = [];
  for (const ref of refs) {
    keys.push(
      embeddingKey({
        sourceHash: await sourceHash(ref),
        view: sampleViewKey(view, ref),
        backbone: backboneId,
        inputSize: embedder.inputSize,
        extractor: embedder.kind,
      }),
    );
  }
  // a disk cache serves the set on demand; holding every embedding would defeat it
  const retain = cache instanceof MemoryEmbeddingCache || keepSamples;
  const inMemory: Float32Array[] = new Array(refs.length);
  const isMissing = new Array<boolean>(refs.length).fill(false);
  let hits = 0;
  for (let i = 0; i < refs.length; i++) {
    const cached = await cache.get(keys[i]);
    if (cached) {
      if (retain) inMemory[i] = cached;
      hits++;
    } else {
      isMissing[i] = true;
    }
  }
  onProgress?.(hits, refs.length, hits);
  const pixels = embedder.inputSize * embedder.inputSize * 3;
  const toLoad = refs.map((_, i) => i).filter((i) => keepSamples || isMissing[i]);
  const batches: number[][] = [];
  for (let b = 0; b < toLoad.length; b += batchSize) batches.push(toLoad.slice(b, b + batchSize));
  // decode the next batch while the engine embeds the current one
  const load = (batch: number[]) => Promise.all(batch.map((i) => loadSample({ ref: refs[i], view })));
  let next = batches.length ? load(batches[0]) : undefined;
  let done = hits;
  for (let b = 0; b < batches.length; b++) {
    const loaded = await next!;
    next = b + 1 < batches.length ? load(batches[b + 1]) : undefined;
    if (keepSamples) batches[b].forEach((i, j) => (samples[i] = loaded[j]));
    const embedIdx = batches[b].map((i, j) => [i, j]).filter(([i]) => isMissing[i]);
    if (embedIdx.length === 0) continue;
    const images = new Float32Array(embedIdx.length * pixels);
    embedIdx.forEach(([, j], k) => images.set(loaded[j].image, k * pixels));
    const pyramids = await embedder.embedPyramids(images, embedIdx.length);
    for (let k = 0; k < embedIdx.length; k++) {
      const i = embedIdx[k][0];
      // what the cache gives back (float16-rounded on disk): a run on a cold cache then computes
      // exactly what the same run on a warm one does
      const stored = await cache.set(keys[i], pyramids[k]);
      if (retain) inMemory[i] = stored;
      done++;
    }
    onProgress?.(done, refs.length, hits);
  }
  const ids = refs.map((r) => r.id);
  const set = retain
    ? memoryEmbeddingSet(ids, inMemory, embedder.levels)
    : cachedEmbeddingSet(ids, keys, cache, embedder.levels);
  return { set, samples, cacheHits: hits, seconds: (performance.now() - start) / 1000 };
}
