/**
 * The patch embedding kept at each backbone map's own resolution (a "pyramid"): the pooled maps
 * before the bilinear upsampling that `patchEmbedding` applies. Upsampling is linear per channel
 * and the CoordConv is linear per patch, so U(X)·W = U(X·W): the descriptor can multiply each map
 * at its own size and upsample the D′-channel product instead of multiplying the upsampled
 * [H·W, D] embedding. For wide_resnet50_2 at 224 that is 1.4 M instead of 5.6 M values per image
 * and a quarter of the multiply-adds in the descriptor's forward and weight-gradient products.
 *
 * Layout of one image's pyramid: the levels one after another, each row-major [h·w, C]. With a
 * single level the pyramid is the embedding itself.
 *
 * @example
 * ```ts
 * const levels = [{ height: 56, width: 56, channels: 64 }, { height: 28, width: 28, channels: 128 }, { height: 14, width: 14, channels: 256 }];
 * const embedding = expandPyramid(pyramid, levels); // [3136, 448], as patchEmbedding computes it
 * ```
 */
import { z } from 'zod';
import { bilinearTaps } from './bilinear';

export const EmbeddingLevelSchema = z.strictObject({
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  channels: z.number().int().positive(),
});
export type EmbeddingLevel = z.infer<typeof EmbeddingLevelSchema>;

/** Values in one image's pyramid. */
export function pyramidLength(levels: EmbeddingLevel[]): number {
  return levels.reduce((n, l) => n + l.height * l.width * l.channels, 0);
}

/** Channels of the upsampled embedding, D = Σ C. */
export function pyramidChannels(levels: EmbeddingLevel[]): number {
  return levels.reduce((n, l) => n + l.channels, 0);
}

/** Each level's [h·w, C] block of one image's pyramid, as views. */
export function pyramidLevels(pyramid: Float32Array, levels: EmbeddingLevel[]): Float32Array[] {
  if (pyramid.length !== pyramidLength(levels)) {
    throw new Error(
      `pyramidLevels: a pyramid of ${levels.map((l) => `${l.height}×${l.width}×${l.channels}`).join(' + ')} holds ${pyramidLength(levels)} values, got ${pyramid.length}`,
    );
  }
  let offset = 0;
  return levels.map((l) => {
    const n = l.height * l.width * l.channels;
    const view = pyramid.subarray(offset, offset + n);
    offset += n;
    return view;
  });
}

/**
 * The bilinear upsampling h×w → H×W (half-pixel centres) as, per output position, its four source
 * positions (y·w + x: nw, ne, sw, se) and their weights: what `expandPyramid` and its adjoint read.
 */
function upsampleCorners(h: number, w: number, H: number, W: number): { index: Int32Array; weight: Float32Array } {
  const ty = bilinearTaps(h, H),
    tx = bilinearTaps(w, W);
  const index = new Int32Array(4 * H * W),
    weight = new Float32Array(4 * H * W);
  for (let y = 0; y < H; y++) {
    const wy1 = ty.wUpper[y],
      wy0 = 1 - wy1;
    const rowA = ty.lower[y] * w,
      rowB = ty.upper[y] * w;
    for (let x = 0; x < W; x++) {
      const wx1 = tx.wUpper[x],
        wx0 = 1 - wx1;
      const o = 4 * (y * W + x);
      index.set([rowA + tx.lower[x], rowA + tx.upper[x], rowB + tx.lower[x], rowB + tx.upper[x]], o);
      weight.set([wy0 * wx0, wy0 * wx1, wy1 * wx0, wy1 * wx1], o);
    }
  }
  return { index, weight };
}

/** The upsampled embedding [H·W, Σ C] of one image's pyramid (H×W = the first level's size). */
export function expandPyramid(pyramid: Float32Array, levels: EmbeddingLevel[]): Float32Array {
  const parts = pyramidLevels(pyramid, levels);
  if (levels.length === 1) return pyramid;
  const { height: H, width: W } = levels[0];
  const D = pyramidChannels(levels);
  const out = new Float32Array(H * W * D);
  let offset = 0;
  levels.forEach((level, l) => {
    const { height: h, width: w, channels: C } = level;
    const src = parts[l];
    const { index, weight } = upsampleCorners(h, w, H, W);
    for (let p = 0; p < H * W; p++) {
      const [a, b, c, d] = [index[4 * p] * C, index[4 * p + 1] * C, index[4 * p + 2] * C, index[4 * p + 3] * C];
      const [wa, wb, wc, wd] = [weight[4 * p], weight[4 * p + 1], weight[4 * p + 2], weight[4 * p + 3]];
      const o = p * D + offset;
      for (let k = 0; k < C; k++) out[o + k] = wa * src[a + k] + wb * src[b + k] + wc * src[c + k] + wd * src[d + k];
    }
    offset += C;
  });
  return out;
}

/** The upsampled embeddings of several images' pyramids in one [B, H·W, Σ C] array, the layout batched runners take. */
export function expandPyramids(pyramids: Float32Array[], levels: EmbeddingLevel[]): Float32Array {
  const per = levels[0].height * levels[0].width * pyramidChannels(levels);
  const out = new Float32Array(pyramids.length * per);
  pyramids.forEach((p, b) => out.set(expandPyramid(p, levels), b * per));
  return out;
}

/**
 * The adjoint of `expandPyramid`: ∂L/∂pyramid of one image from ∂L/∂embedding [H·W, Σ C] — each
 * level's channels carried back through the transposed bilinear upsampling (the first level is
 * copied). What a trainable stage before the upsampling (FYD's feature-level alignment) learns
 * through.
 */
export function expandPyramidAdjoint(gradEmbedding: Float32Array, levels: EmbeddingLevel[]): Float32Array {
  const { height: H, width: W } = levels[0];
  const D = pyramidChannels(levels);
  if (gradEmbedding.length !== H * W * D)
    throw new Error(
      `expandPyramidAdjoint: the embedding is [${H * W}, ${D}] (${H * W * D} values), got ${gradEmbedding.length}`,
    );
  const out = new Float32Array(pyramidLength(levels));
  let offset = 0,
    start = 0;
  for (const { height: h, width: w, channels: C } of levels) {
    const dst = out.subarray(start, start + h * w * C);
    const { index, weight } = upsampleCorners(h, w, H, W);
    for (let p = 0; p < H * W; p++) {
      const src = p * D + offset;
      for (let j = 4 * p; j < 4 * p + 4; j++) {
        if (weight[j] === 0) continue;
        const base = index[j] * C;
        for (let k = 0; k < C; k++) dst[base + k] += weight[j] * gradEmbedding[src + k];
      }
    }
    offset += C;
    start += h * w * C;
  }
  return out;
}
