/**
 * The embeddings of a split, in sample order, each [H·W, D] — held in memory or read back from
 * the disk cache on demand (a wide_resnet50_2 category does not fit in memory as float32).
 */
import type { EmbeddingCache } from './embedding-cache';

export interface EmbeddingSet {
  readonly ids: string[];
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  get(index: number): Promise<Float32Array>;
}

export interface EmbeddingGeometry {
  height: number;
  width: number;
  channels: number;
}

export function memoryEmbeddingSet(ids: string[], items: Float32Array[], geometry: EmbeddingGeometry): EmbeddingSet {
  return {
    ids,
    ...geometry,
    get: async (i) => {
      const v = items[i];
      if (!v) throw new Error(`EmbeddingSet: no embedding ${i} (${ids.length} in the set)`);
      return v;
    },
  };
}

export function cachedEmbeddingSet(ids: string[], keys: string[], cache: EmbeddingCache, geometry: EmbeddingGeometry): EmbeddingSet {
  return {
    ids,
    ...geometry,
    get: async (i) => {
      const v = await cache.get(keys[i]);
      if (!v) throw new Error(`EmbeddingSet: the ${cache.description} cache lost the embedding of ${ids[i]}`);
      return v;
    },
  };
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

/** The embeddings `indices` of a set, read concurrently. */
export function readEmbeddings(set: EmbeddingSet, indices: number[]): Promise<Float32Array[]> {
  return Promise.all(indices.map((i) => set.get(i)));
}
