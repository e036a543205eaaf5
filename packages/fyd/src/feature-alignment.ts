/**
 * FYD's features of a batch (docs/methods/fyd.md): each backbone map brought to its level's pose
 * by that level's spatial transformer (feature-level coarse alignment; absent = the map as it is),
 * then the embedding — the maps upsampled to the first one's grid and concatenated (@cfa/descriptor
 * `expandPyramid`) — and the way back for the gradient; the scores made on that grid brought
 * back onto the input image's grid. Glue over the stage packages.
 *
 * @example
 * ```ts
 * const warped = warpLevels({ maps, count: 8, levels, stns, bounds });
 * const embedding = stackEmbedding(warped.maps, 8, levels); // [8·H·W, Σ C]
 * ```
 */
import { affineGrid, composeAffine, gridSample, invertAffine } from '@cfa/tensor-runtime';
import {
  areaPool,
  type EmbeddingLevel,
  expandPyramid,
  expandPyramidAdjoint,
  localise,
  type Pose,
  type PoseBounds,
  pyramidChannels,
  pyramidLength,
  type SpatialTransformerParams,
} from '@cfa/descriptor';

export interface WarpedLevels {
  /** Per level [count, h, w, C] (NHWC): the maps at their transformer's pose. */
  maps: Float32Array[];
  /** Per level, when it has a transformer: what its gradient needs. */
  steps: ({ pooled: Float32Array; pose: Pose; grid: Float32Array } | undefined)[];
}

export function levelShape(level: EmbeddingLevel, count: number): [number, number, number, number] {
  return [count, level.height, level.width, level.channels];
}

/** Each level's map [count, h, w, C] through its transformer (none: unchanged). */
export function warpLevels(options: {
  maps: Float32Array[];
  count: number;
  levels: EmbeddingLevel[];
  stns?: SpatialTransformerParams[];
  bounds: PoseBounds;
}): WarpedLevels {
  const { maps, count, levels, stns, bounds } = options;
  const out: WarpedLevels = { maps: [], steps: [] };
  levels.forEach((level, l) => {
    const stn = stns?.[l];
    if (!stn) {
      out.maps.push(maps[l]);
      out.steps.push(undefined);
      return;
    }
    const shape = levelShape(level, count);
    const pooled = areaPool({ x: maps[l], shape, size: stn.pool });
    const pose = localise({ pooled, count, params: stn, bounds });
    const grid = affineGrid({ theta: pose.theta, count, height: level.height, width: level.width });
    out.maps.push(
      gridSample({
        input: maps[l],
        inputShape: shape,
        grid,
        gridShape: [count, level.height, level.width],
        padding: bounds.padding,
      }),
    );
    out.steps.push({ pooled, pose, grid });
  });
  return out;
}

/** The batch's embedding [count·H·W, Σ C], image after image. */
export function stackEmbedding(maps: Float32Array[], count: number, levels: EmbeddingLevel[]): Float32Array {
  const { height: H, width: W } = levels[0];
  const D = pyramidChannels(levels);
  const out = new Float32Array(count * H * W * D);
  const pyramid = new Float32Array(pyramidLength(levels));
  for (let b = 0; b < count; b++) {
    let offset = 0;
    levels.forEach((l, k) => {
      const n = l.height * l.width * l.channels;
      pyramid.set(maps[k].subarray(b * n, (b + 1) * n), offset);
      offset += n;
    });
    out.set(expandPyramid(pyramid, levels), b * H * W * D);
  }
  return out;
}

/** ∂L/∂(each level's map) [count, h, w, C] from ∂L/∂embedding [count·H·W, Σ C]. */
export function unstackEmbeddingGradient(
  gradEmbedding: Float32Array,
  count: number,
  levels: EmbeddingLevel[],
): Float32Array[] {
  const per = levels[0].height * levels[0].width * pyramidChannels(levels);
  const out = levels.map((l) => new Float32Array(count * l.height * l.width * l.channels));
  for (let b = 0; b < count; b++) {
    const pyramid = expandPyramidAdjoint(gradEmbedding.subarray(b * per, (b + 1) * per), levels);
    let offset = 0;
    levels.forEach((l, k) => {
      const n = l.height * l.width * l.channels;
      out[k].set(pyramid.subarray(offset, offset + n), b * n);
      offset += n;
    });
  }
  return out;
}

/**
 * Patch scores [count, H, W] made on the aligned grid, brought back onto each input image's grid:
 * the embedding's position p is level 0's map at θ₀·p, which is the input image at θᵢ·θ₀·p
 * (image-level pose θᵢ, level 0's pose θ₀; either absent = identity), so the input's grid samples
 * the scores at (θᵢ∘θ₀)⁻¹ (bilinear, the border clamped). Without either pose: the scores as they are.
 * The anomaly map must be on the input's grid: the masks (and a user) see the image, not its pose.
 */
export function scoresOnInputGrid(options: {
  scores: Float32Array;
  count: number;
  height: number;
  width: number;
  /** [count, 2, 3] per image, or absent. */
  imageTheta?: Float32Array;
  featureTheta?: Float32Array;
}): Float32Array {
  const { scores, count, height, width, imageTheta, featureTheta } = options;
  const chain =
    imageTheta && featureTheta ? composeAffine(imageTheta, featureTheta, count) : (imageTheta ?? featureTheta);
  if (!chain) return scores;
  const grid = affineGrid({ theta: invertAffine(chain, count), count, height, width });
  return gridSample({
    input: scores,
    inputShape: [count, height, width, 1],
    grid,
    gridShape: [count, height, width],
    padding: 'border',
  });
}
