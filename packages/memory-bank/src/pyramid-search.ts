/**
 * The nearest-centre ranking straight from the embedding pyramid. φ is linear in the pyramid
 * (φ = Σ_l U_l(X_l W_l) + coords·W_c + b, see @cfa/descriptor's pyramid-descriptor-onnx.ts), so
 *
 *   φ·Cᵀ = Σ_l U_l(X_l · (W_l Cᵀ)) + coords·(W_c Cᵀ) + b·Cᵀ
 *
 * and the [H·W, M] score matrix comes from products at each level's own size with the factors
 * V_l = W_l Cᵀ, computed once for all the images of a run, instead of one [H·W, D′]·[D′, M]
 * product per image. For wide_resnet50_2 at γ = 1 that is ≈ 16 instead of 35 GFLOP per image in
 * training (V amortised over a batch of 4) and ≈ 10 in inference. The scores rank by
 * P = φ·c − ‖c‖²/2 (largest = nearest); the kept values give d = ‖φ‖² − 2P, the squared distances
 * in the reference code's form, with φ computed anyway by the caller.
 *
 * `lowerDescriptorNearest` picks between this and ranking φ·Cᵀ (`lowerNearest`) for a whole graph.
 *
 * @example
 * ```ts
 * const descriptor = lowerPyramidDescriptor(g, { levels, params, weights: 'input' });
 * const nearest = lowerDescriptorNearest(g, descriptor, memoryBankInputs(g, params.outChannels), { imagesPerRun: 1 });
 * const [distances, indices] = nearest(descriptor.images[0], 6); // [H·W, 6] each, ascending
 * ```
 */
import { attr, type OnnxGraphBuilder } from '@cfa/tensor-runtime';
import {
  type EmbeddingLevel,
  lowerPyramidForward,
  type PyramidDescriptorGraph,
  type PyramidImageGraph,
} from '@cfa/descriptor';
import { lowerNearest, lowerRowSquaredNorms, type MemoryBankGraph } from './nearest-onnx';

export interface PyramidSearchFactors {
  /** V_l = W_l · Cᵀ, [C_l, M]. */
  levels: string[];
  /** coords · (W_c Cᵀ) + b·Cᵀ − ‖c‖²/2, [H·W, M]: the same for every image. */
  offset: string;
}

/** The per-run factors from a descriptor graph's weights and coordinate channels and the bank's Cᵀ, ‖c‖². */
export function lowerPyramidSearchFactors(
  g: OnnxGraphBuilder,
  descriptor: Pick<PyramidDescriptorGraph, 'weights' | 'coords'>,
  bank: MemoryBankGraph,
): PyramidSearchFactors {
  const { weights, coords } = descriptor;
  const levels = weights.levels.map((w) => g.node('MatMul', [w, bank.ct])[0]);
  const half = g.initializer(g.fresh('half'), new Float32Array([0.5]), []);
  const shift = g.node('Sub', [g.node('MatMul', [weights.bias, bank.ct])[0], g.node('Mul', [bank.cn, half])[0]])[0]; // [M]
  return { levels, offset: g.node('Gemm', [coords, g.node('MatMul', [weights.weightC, bank.ct])[0], shift])[0] };
}

/** The k nearest centres of one image's patches, ascending: [squared distances [HW, k], indices [HW, k] int64]. */
export function lowerPyramidNearest(
  g: OnnxGraphBuilder,
  image: PyramidImageGraph,
  factors: PyramidSearchFactors,
  levels: EmbeddingLevel[],
  k: number,
): [string, string] {
  const scores = lowerPyramidForward(g, image.xs, factors, factors.offset, levels); // φ·c − ‖c‖²/2
  const [kept, indices] = g.node(
    'TopK',
    [scores, g.ints('k', [k])],
    { axis: attr.int(-1), largest: attr.int(1), sorted: attr.int(1) },
    2,
  );
  const minusTwo = g.initializer(g.fresh('minus_two'), new Float32Array([-2]), []);
  return [g.node('Add', [lowerRowSquaredNorms(g, image.phi), g.node('Mul', [kept, minusTwo])[0]])[0], indices];
}

/**
 * Whether ranking through the pyramid takes fewer multiply-adds per score than φ·Cᵀ (inner size
 * D′): Σ_l (h_l·w_l/H·W)·C_l, plus the factors V = W·Cᵀ shared by `imagesPerRun` images, plus
 * ≈ 120 for the resampling and the passes over the [H·W, M] scores (measured on WRN50-2).
 * Compressed descriptors (γd ≥ 4) keep the direct product.
 */
export function pyramidSearchPays(levels: EmbeddingLevel[], outChannels: number, imagesPerRun: number): boolean {
  const hw = levels[0].height * levels[0].width;
  const inChannels = levels.reduce((n, l) => n + l.channels, 0);
  const perLevel = levels.reduce((n, l) => n + (l.height * l.width * l.channels) / hw, 0);
  const factors = Number.isFinite(imagesPerRun) ? (inChannels * outChannels) / (imagesPerRun * hw) : 0;
  return perLevel + factors + 120 < 0.8 * outChannels;
}

/** How a graph ranks the centres: through the pyramid, by φ·Cᵀ, or whichever takes fewer multiply-adds. */
export type NearestRanking = 'auto' | 'pyramid' | 'direct';

export interface DescriptorNearestOptions {
  /** Default 'auto'. */
  ranking?: NearestRanking;
  /** Images the pyramid factors are shared by (a training step's batch; Infinity when the bank and weights are constants). */
  imagesPerRun: number;
}

/**
 * The k-nearest search for the images of a pyramid descriptor graph: lowers the pyramid factors
 * once (when the ranking goes through the pyramid) and returns the per-image lowering
 * image → [squared distances [H·W, k], indices [H·W, k] int64], ascending.
 */
export function lowerDescriptorNearest(
  g: OnnxGraphBuilder,
  descriptor: Pick<PyramidDescriptorGraph, 'levels' | 'outChannels' | 'weights' | 'coords'>,
  bank: MemoryBankGraph,
  { ranking = 'auto', imagesPerRun }: DescriptorNearestOptions,
): (image: PyramidImageGraph, k: number) => [string, string] {
  const { levels, outChannels } = descriptor;
  const viaPyramid =
    ranking === 'pyramid' || (ranking === 'auto' && pyramidSearchPays(levels, outChannels, imagesPerRun));
  if (!viaPyramid) return (image, k) => lowerNearest(g, image.phi, bank.ct, bank.cn, k);
  const factors = lowerPyramidSearchFactors(g, descriptor, bank);
  return (image, k) => lowerPyramidNearest(g, image, factors, levels, k);
}
