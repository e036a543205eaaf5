/**
 * PaDiM's patch embedding (Defard et al. 2021, §3.1; the PaDiM reference code
 * xiahaifeng1995/PaDiM-Anomaly-Detection-Localization-master, `main.py` `embedding_concat`): the
 * backbone's layer1..3 maps concatenated on the first (finest) map's grid, each coarser map
 * brought to that grid by NEAREST-neighbour upsampling, then a fixed random subset of the
 * channels kept (`torch.index_select(embedding, 1, idx)`).
 *
 * `embedding_concat` unfolds the fine map into s×s blocks (s = H1 / H2) and appends the coarse
 * map's cell to every position of its block, then folds back: each coarse cell is replicated over
 * the s×s fine positions it covers — exactly nearest-neighbour upsampling by an integer factor
 * (PyTorch's `F.interpolate(mode='nearest')`, source index ⌊i · in/out⌋, which anomalib's PaDiM
 * uses). For a non-integer ratio `embedding_concat` fails; this function keeps the ⌊i · in/out⌋
 * rule there, as `F.interpolate` and ONNX's Resize (nearest, asymmetric, floor) do.
 *
 * Unlike CFA's embedding there is no 3×3 pooling: the levels are the raw backbone maps
 * (`createPatchEmbedder({ pooling: 'none' })` stores them as the pyramid).
 *
 * @example
 * ```ts
 * const levels = [{ height: 56, width: 56, channels: 64 }, { height: 28, width: 28, channels: 128 }, { height: 14, width: 14, channels: 256 }];
 * const x = nearestEmbedding({ pyramid, levels, channels: [3, 17, 400] }); // [3136, 3]
 * ```
 */
import { attr, createRng, type OnnxGraphBuilder } from '@cfa/tensor-runtime';
import type { FeatureShape } from '@cfa/backbone';
import { type EmbeddingLevel, pyramidChannels, pyramidLevels } from './embedding-pyramid';
import { lowerUpsampledConcat } from './patch-embedding-onnx';

/** Source index of output sample i of a nearest resize in → out (PyTorch 'nearest': ⌊i · in/out⌋). */
function nearestSource(i: number, inSize: number, outSize: number): number {
  return Math.min(Math.floor((i * inSize) / outSize), inSize - 1);
}

export interface NearestEmbeddingParams {
  /** One image's maps, level after level, each row-major [h·w, C] (an embedding pyramid). */
  pyramid: Float32Array;
  /** The maps' sizes, the finest first. */
  levels: EmbeddingLevel[];
  /** Which channels of the concatenated Σ C to keep, in this order; all when absent. */
  channels?: ArrayLike<number>;
}

/** Returns the embedding [H·W, d] on the first level's grid (d = `channels.length`, or Σ C). */
export function nearestEmbedding({ pyramid, levels, channels }: NearestEmbeddingParams): Float32Array {
  const parts = pyramidLevels(pyramid, levels);
  const total = pyramidChannels(levels);
  const picks = channels ?? Array.from({ length: total }, (_, c) => c);
  // each kept channel as (level, channel within it)
  const starts = levels.map((_, l) => levels.slice(0, l).reduce((n, x) => n + x.channels, 0));
  const level = new Int32Array(picks.length),
    within = new Int32Array(picks.length);
  for (let k = 0; k < picks.length; k++) {
    const c = picks[k];
    if (!Number.isInteger(c) || c < 0 || c >= total)
      throw new Error(`nearestEmbedding: channel ${c} (entry ${k}) is outside the embedding's ${total} channels`);
    let l = levels.length - 1;
    while (starts[l] > c) l--;
    level[k] = l;
    within[k] = c - starts[l];
  }
  const { height: H, width: W } = levels[0];
  const d = picks.length;
  const out = new Float32Array(H * W * d);
  // per level, the flat source cell of every output position
  const cell = levels.map(({ height: h, width: w }) => {
    const index = new Int32Array(H * W);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) index[y * W + x] = nearestSource(y, h, H) * w + nearestSource(x, w, W);
    return index;
  });
  for (let p = 0; p < H * W; p++) {
    const o = p * d;
    for (let k = 0; k < d; k++) {
      const l = level[k];
      out[o + k] = parts[l][cell[l][p] * levels[l].channels + within[k]];
    }
  }
  return out;
}

/**
 * The same as an ONNX graph piece: backbone maps (NCHW value names, the finest first) → the
 * embedding [N, d, H, W] (NCHW): Resize (nearest, asymmetric, floor) of the coarser maps to the
 * first one's grid, Concat on channels, Gather of the kept channels.
 */
export function lowerNearestEmbedding(
  g: OnnxGraphBuilder,
  maps: string[],
  shapes: FeatureShape[],
  channels?: ArrayLike<number>,
): string {
  const all = lowerUpsampledConcat(g, maps, shapes, {
    mode: attr.string('nearest'),
    coordinate_transformation_mode: attr.string('asymmetric'),
    nearest_mode: attr.string('floor'),
  });
  if (!channels) return all;
  return g.node('Gather', [all, g.ints('channels', Array.from(channels))], { axis: attr.int(1) })[0];
}

/**
 * PaDiM's random dimension reduction: `count` distinct channels of `total`, in draw order (the
 * reference draws `random.sample(range(t_d), d)` once with its fixed seed 1024; here the run's
 * seed draws them, so seeds differ in the subset as they differ in the backbone's init).
 */
export function randomChannels(total: number, count: number, seed: number): number[] {
  if (!Number.isInteger(count) || count < 1 || count > total)
    throw new Error(`randomChannels: cannot draw ${count} of ${total} channels (1 … ${total})`);
  return createRng(seed).fork('padim:channels').permutation(total).slice(0, count);
}
