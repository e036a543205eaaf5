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

/** Stacks embeddings `indices` into one [B, H·W, D] array. */
export async function stackEmbeddings(set: EmbeddingSet, indices: number[]): Promise<Float32Array> {
  const per = set.height * set.width * set.channels;
  const out = new Float32Array(indices.length * per);
  for (let b = 0; b < indices.length; b++) out.set(await set.get(indices[b]), b * per);
  return out;
}
