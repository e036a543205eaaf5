/**
 * The same patch embedding as `patch-embedding-tf.ts`, lowered to ONNX nodes (AveragePool with
 * count_include_pad, Resize linear/half_pixel = align_corners false, Concat), appended to a graph
 * that already holds the backbone, so that one ONNX Runtime session maps images to embeddings.
 */
import { attr, type OnnxGraphBuilder } from '@cfa/tensor-runtime';
import type { FeatureShape } from '@cfa/backbone';

/**
 * The patch embedding of the backbone maps already in `g`.
 *
 * @param maps - NCHW value names of the backbone maps, largest first.
 * @param shapes - their shapes (from `featureShapesFor`).
 * @param scaleByChannels - divide each pooled map by its channel count (EfficientNet).
 * @returns the NCHW value name of the [N, ΣC, H, W] embedding.
 */
export function lowerPatchEmbeddingToOnnx(
  g: OnnxGraphBuilder,
  maps: string[],
  shapes: FeatureShape[],
  scaleByChannels = false,
): string {
  return lowerUpsampledConcat(g, lowerPooledMapsToOnnx(g, maps, shapes, scaleByChannels), shapes);
}

type ResizeAttributes = Record<string, ReturnType<typeof attr.string>>;

/** ONNX Resize attributes of bilinear upsampling with align_corners false (`expandPyramid`'s). */
const BILINEAR: ResizeAttributes = {
  mode: attr.string('linear'),
  coordinate_transformation_mode: attr.string('half_pixel'),
};

/** x [N, C, h, w] resized to [N, C, height, width] with the given Resize attributes. */
function lowerResize(g: OnnxGraphBuilder, x: string, height: number, width: number, resize: ResizeAttributes): string {
  const batchAndChannels = g.node('Slice', [g.node('Shape', [x])[0], g.ints('start', [0]), g.ints('end', [2])])[0];
  const sizes = g.node('Concat', [batchAndChannels, g.ints('hw', [height, width])], { axis: attr.int(0) })[0];
  return g.node('Resize', [x, '', '', sizes], resize)[0];
}

/**
 * Maps [N, C_l, h_l, w_l] (NCHW) resized to the first one's size — bilinearly (align_corners
 * false, the embedding of `expandPyramid`) unless other Resize attributes are given — and
 * concatenated on channels.
 */
export function lowerUpsampledConcat(
  g: OnnxGraphBuilder,
  maps: string[],
  shapes: Pick<FeatureShape, 'height' | 'width'>[],
  resize: ResizeAttributes = BILINEAR,
): string {
  const { height, width } = shapes[0];
  const parts = maps.map((m, i) =>
    shapes[i].height === height && shapes[i].width === width ? m : lowerResize(g, m, height, width, resize),
  );
  return parts.length === 1 ? parts[0] : g.node('Concat', parts, { axis: attr.int(1) })[0];
}

/**
 * An NCHW value resized bilinearly to height × width (any batch and channels), no antialiasing:
 * `half_pixel` (default) = torch's `align_corners=False`, `align_corners` = its `True`
 * (`nn.UpsamplingBilinear2d`).
 */
export function lowerResizeBilinear(
  g: OnnxGraphBuilder,
  value: string,
  height: number,
  width: number,
  transform: 'half_pixel' | 'align_corners' = 'half_pixel',
): string {
  return lowerResize(g, value, height, width, {
    mode: attr.string('linear'),
    coordinate_transformation_mode: attr.string(transform),
  });
}

/** Each map 3×3-average-pooled at its own size (the embedding pyramid's levels), NCHW. */
export function lowerPooledMapsToOnnx(
  g: OnnxGraphBuilder,
  maps: string[],
  shapes: FeatureShape[],
  scaleByChannels = false,
): string[] {
  return maps.map((m, i) => {
    const pooled = g.node('AveragePool', [m], {
      kernel_shape: attr.ints([3, 3]),
      strides: attr.ints([1, 1]),
      pads: attr.ints([1, 1, 1, 1]),
      count_include_pad: attr.int(1),
    })[0];
    if (!scaleByChannels) return pooled;
    const c = g.initializer(g.fresh('channels'), new Float32Array([shapes[i].channels]), []);
    return g.node('Div', [pooled, c])[0];
  });
}
