/**
 * φ of embedding pyramids as one ONNX graph piece — the set-up every graph that computes φ from
 * the feature cache's pyramids shares (the descriptor runner, the fused training step, inference,
 * a model export): the weight inputs or constants, the coordinate channels and their term, one
 * chain per image (each level multiplied at its own size, see embedding-pyramid.ts), and the
 * feeds that fill the inputs. `lowerPyramidDescriptorGradient` adds ∂W, ∂b of a loss summed over
 * the images from each image's ∂loss/∂φ.
 *
 *   φ_b  = Σ_l U_l(X_b,l · W_l) + coords · W_c + b             (paper §3.1: 1×1 CoordConv)
 *   ∂W_l = Σ_b X_b,lᵀ · U_lᵀ G_b,  [∂W_c; ∂b] = [coords, 1]ᵀ · Σ_b G_b
 *
 * @example
 * ```ts
 * const g = new OnnxGraphBuilder('phi');
 * const descriptor = lowerPyramidDescriptor(g, { levels, params, weights: 'input' });
 * g.namedOutput(descriptor.images[0].phi, 'phi', [3136, params.outChannels]);
 * const runner = await createOrtRunner(engine, g.toBytes(), 'phi');
 * const { phi } = await runner.run(descriptor.feeds([pyramid], params));
 * ```
 */
import { assert, type OnnxGraphBuilder, type OrtFeed } from '@cfa/tensor-runtime';
import { assertCoordConvShape, type CoordConvParams } from './coord-conv';
import {
  coordinatesAndOneInitializer,
  coordinatesInitializer,
  finishPyramidGradient,
  lowerCoordinateTerm,
  lowerPyramidForward,
  lowerPyramidWeightGradient,
  type PyramidGradient,
  pyramidFeeds,
  pyramidInputs,
  pyramidWeightFeeds,
  pyramidWeightInputs,
  type PyramidWeights,
} from './coord-conv-onnx';
import { type EmbeddingLevel, pyramidChannels } from './embedding-pyramid';

/** One image of a `PyramidDescriptorGraph`. */
export interface PyramidImageGraph {
  /** Its level inputs, each [h_l·w_l, C_l]: x_<l> in a one-image graph, else x_<b>_<l>. */
  xs: string[];
  /** φ, [H·W, D′]. */
  phi: string;
}

export interface PyramidDescriptorGraph {
  /** The pyramid's levels, the patch grid first. */
  readonly levels: EmbeddingLevel[];
  readonly coordChannels: number;
  readonly outChannels: number;
  /** W split by level, W_c and b: graph inputs (`weights: 'input'`) or constants. */
  readonly weights: PyramidWeights;
  /** The coordinate channels, [H·W, c] (a constant). */
  readonly coords: string;
  /** The images lowered so far, in feed order. */
  readonly images: readonly PyramidImageGraph[];
  /**
   * Lowers one more image's φ. A graph that works on each image in turn (the training step) adds
   * them one at a time, so that ONNX Runtime runs and frees one image's chain before the next.
   */
  addImage(): PyramidImageGraph;
  /** The feeds of a run: each image's pyramid (views, not copies), and W, b when they are inputs. */
  feeds(pyramids: Float32Array[], params?: CoordConvParams): Record<string, OrtFeed>;
}

export interface PyramidDescriptorOptions {
  levels: EmbeddingLevel[];
  /** Its shapes fix the graph's; with `weights: 'constant'` its values are stored in the graph. */
  params: CoordConvParams;
  /** 'input': W and b are fed on every run (they train); 'constant': a fitted descriptor's. */
  weights: 'input' | 'constant';
  /** Images lowered at once (default 1); `addImage` lowers more. */
  images?: number;
}

export function lowerPyramidDescriptor(g: OnnxGraphBuilder, options: PyramidDescriptorOptions): PyramidDescriptorGraph {
  const { levels, params, images: initial = 1 } = options;
  const { coordChannels: c, outChannels: dOut } = params;
  const d = pyramidChannels(levels);
  assert(
    params.inChannels === d,
    'lowerPyramidDescriptor',
    () => `the descriptor takes ${params.inChannels} channels, the pyramid's levels hold ${d}`,
  );
  const { height, width } = levels[0];
  let weights: PyramidWeights;
  if (options.weights === 'input') {
    weights = pyramidWeightInputs(g, levels, c, dOut);
  } else {
    const fed = pyramidWeightFeeds(params.weight, params.bias, levels, c, dOut);
    const constant = (name: string) => g.initializer(name, fed[name].data, fed[name].dims);
    weights = {
      levels: levels.map((_, i) => constant(`weight_${i}`)),
      weightC: constant('weight_c'),
      bias: constant('bias'),
    };
  }
  const coords = coordinatesInitializer(g, height, width, c);
  const coordTerm = lowerCoordinateTerm(g, coords, weights);
  const images: PyramidImageGraph[] = [];
  // a one-image graph (the default) names its inputs x_<l>, as it always has; more images x_<b>_<l>
  const prefixes: string[] = [];
  const addImage = (): PyramidImageGraph => {
    prefixes.push(initial === 1 && images.length === 0 ? 'x' : `x_${images.length}`);
    const xs = pyramidInputs(g, levels, prefixes[images.length]);
    const image = { xs, phi: lowerPyramidForward(g, xs, weights, coordTerm, levels) };
    images.push(image);
    return image;
  };
  for (let b = 0; b < initial; b++) addImage();
  return {
    levels,
    coordChannels: c,
    outChannels: dOut,
    weights,
    coords,
    images,
    addImage,
    feeds(pyramids, fedParams) {
      assert(
        pyramids.length === images.length,
        'PyramidDescriptorGraph.feeds',
        () => `the graph takes ${images.length} image(s), got ${pyramids.length} pyramid(s)`,
      );
      const feeds: Record<string, OrtFeed> = {};
      pyramids.forEach((pyramid, b) => Object.assign(feeds, pyramidFeeds(pyramid, levels, prefixes[b])));
      if (options.weights === 'constant') return feeds;
      assert(
        fedParams !== undefined,
        'PyramidDescriptorGraph.feeds',
        () => 'the weights are graph inputs: pass the params to feed',
      );
      assertCoordConvShape('PyramidDescriptorGraph.feeds', params, fedParams!);
      return { ...pyramidWeightFeeds(fedParams!.weight, fedParams!.bias, levels, c, dOut), ...feeds };
    },
  };
}

/** ∂W [D + c, D′] and ∂b [D′] of a loss summed over images, built up image by image. */
export interface PyramidGradientSum {
  /** Adds one image's term from its level inputs and ∂loss/∂φ [H·W, D′] (Gemm's C carries the running sum). */
  add(image: Pick<PyramidImageGraph, 'xs'>, gradPhi: string): void;
  /** [∂W, ∂b] of the images added. */
  total(): [string, string];
}

/**
 * The weight gradient of a `PyramidDescriptorGraph`: ∂loss/∂φ goes back to each level through the
 * transpose of its upsampling, and the products run at the level's size. Add each image as soon as
 * its ∂loss/∂φ is lowered.
 */
export function lowerPyramidDescriptorGradient(
  g: OnnxGraphBuilder,
  descriptor: Pick<PyramidDescriptorGraph, 'levels' | 'coordChannels'>,
): PyramidGradientSum {
  const { levels, coordChannels: c } = descriptor;
  const coordsAndOne = coordinatesAndOneInitializer(g, levels[0].height, levels[0].width, c);
  let sum: PyramidGradient | undefined;
  return {
    add(image, gradPhi) {
      sum = lowerPyramidWeightGradient(g, image.xs, gradPhi, coordsAndOne, levels, sum);
    },
    total() {
      assert(sum !== undefined, 'PyramidGradientSum.total', () => 'no image was added');
      return finishPyramidGradient(g, sum!, c);
    },
  };
}
