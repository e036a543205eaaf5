/**
 * The embeddings of a split, in sample order — held in memory or read back from the disk cache on
 * demand (a wide_resnet50_2 category does not fit in memory as float32). Each image is stored as
 * its embedding pyramid (each backbone map pooled at its own size, see @cfa/descriptor's
 * embedding-pyramid.ts); `get` gives the upsampled [H·W, D] embedding, `pyramid` the stored form
 * that the fused training step multiplies level by level.
 */
import { type EmbeddingLevel, expandPyramid, pyramidChannels, pyramidLength } from '@cfa/descriptor';
import type { EmbeddingCache } from './embedding-cache';

export interface EmbeddingSet {
  readonly ids: string[];
  /** The patch grid (the first level's size) and the embedding's channels D = Σ C. */
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly levels: EmbeddingLevel[];
  /** One image's embedding pyramid. */
  pyramid(index: number): Promise<Float32Array>;
  /** One image's upsampled embedding [H·W, D]. */
  get(index: number): Promise<Float32Array>;
}

function embeddingSet(
  ids: string[],
  levels: EmbeddingLevel[],
  pyramid: (index: number) => Promise<Float32Array>,
): EmbeddingSet {
  const values = pyramidLength(levels);
  const checked = async (i: number) => {
    const p = await pyramid(i);
    if (p.length !== values)
      throw new Error(`EmbeddingSet: the embedding of ${ids[i]} holds ${p.length} values, its levels ${values}`);
    return p;
  };
  return {
    ids,
    height: levels[0].height,
    width: levels[0].width,
    channels: pyramidChannels(levels),
    levels,
    pyramid: checked,
    get: async (i) => expandPyramid(await checked(i), levels),
  };
}

export function memoryEmbeddingSet(ids: string[], pyramids: Float32Array[], levels: EmbeddingLevel[]): EmbeddingSet {
  return embeddingSet(ids, levels, async (i) => {
    const v = pyramids[i];
    if (!v) throw new Error(`EmbeddingSet: no embedding ${i} (${ids.length} in the set)`);
    return v;
  });
}

export function cachedEmbeddingSet(
  ids: string[],
  keys: string[],
  cache: EmbeddingCache,
  levels: EmbeddingLevel[],
): EmbeddingSet {
  return embeddingSet(ids, levels, async (i) => {
    const v = await cache.get(keys[i]);
    if (!v) throw new Error(`EmbeddingSet: the ${cache.description} cache lost the embedding of ${ids[i]}`);
    return v;
  });
}

/** Images' embeddings (each [H·W, D]) in one [B, H·W, D] array, the layout batched runners take. */
export function stackImages(images: Float32Array[]): Float32Array {
  const out = new Float32Array(images.reduce((n, x) => n + x.length, 0));
  let offset = 0;
  for (const x of images) {
    out.set(x, offset);
    offset += x.length;
  }
  return out;
}

/** The inverse of `stackImages`: views (not copies) of the `count` images of a [B, H·W, D] array. */
export function splitImages(stacked: Float32Array, count: number): Float32Array[] {
  const per = stacked.length / count;
  return Array.from({ length: count }, (_, i) => stacked.subarray(i * per, (i + 1) * per));
}

/** The upsampled embeddings `indices` of a set, read concurrently. */
export function readEmbeddings(set: EmbeddingSet, indices: number[]): Promise<Float32Array[]> {
  return Promise.all(indices.map((i) => set.get(i)));
}

/** The embedding pyramids `indices` of a set, read concurrently. */
export function readPyramids(set: EmbeddingSet, indices: number[]): Promise<Float32Array[]> {
  return Promise.all(indices.map((i) => set.pyramid(i)));
}
