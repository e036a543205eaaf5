/**
 * Inference's hot path: embedding pyramids → φ → squared distances to the K nearest centres, for a
 * fitted (fixed) descriptor and memory bank. On ONNX Runtime it is one graph built from the
 * descriptor and memory-bank lowerings with W, b and Cᵀ as constants, so φ never leaves ONNX
 * Runtime, the matrix products can use pre-packed weights, and both the descriptor and the
 * ranking work on each pyramid level at its own size (pyramid-search.ts); on TensorFlow.js it is
 * the descriptor runner on the upsampled embeddings followed by the blocked search.
 *
 * @example
 * ```ts
 * const scorer = await createPatchDistances({ engine, params, bank, levels: set.levels, k: 3 });
 * const distances = await scorer.nearest(await readPyramids(set, [0, 1, 2, 3])); // → [4 · 3136, 3], ascending per row
 * ```
 */
import { assert, createOrtRunner, type EngineSelection, OnnxGraphBuilder } from '@cfa/tensor-runtime';
import {
  type CoordConvParams,
  coordinatesInitializer,
  createDescriptorRunner,
  type EmbeddingLevel,
  expandPyramid,
  lowerCoordinateTerm,
  lowerPyramidForward,
  pyramidFeeds,
  pyramidInputs,
  pyramidLength,
  pyramidWeightFeeds,
} from '@cfa/descriptor';
import { createNearestSearch, lowerNearest, type MemoryBank } from '@cfa/memory-bank';
import { stackImages } from './embedding-set';
import { lowerPyramidNearest, lowerPyramidSearchFactors, pyramidSearchPays } from './pyramid-search';

export interface PatchDistances {
  /** Squared distances [batch · HW, k] from every patch's φ of the images (each an embedding pyramid) to its k nearest centres, ascending. */
  nearest(pyramids: Float32Array[]): Promise<Float32Array>;
  release(): Promise<void>;
}

export interface PatchDistancesOptions {
  engine: EngineSelection;
  params: CoordConvParams;
  bank: MemoryBank;
  /** The embedding pyramid's levels, the patch grid first. */
  levels: EmbeddingLevel[];
  k: number;
  /** ONNX Runtime: rank through the pyramid (pyramid-search.ts), by φ·Cᵀ, or whichever takes fewer multiply-adds. */
  search?: 'auto' | 'pyramid' | 'direct';
}

export async function createPatchDistances(options: PatchDistancesOptions): Promise<PatchDistances> {
  const { engine, params, bank, levels, k, search: ranking = 'auto' } = options;
  const { height, width } = levels[0];
  const hw = height * width;
  const values = pyramidLength(levels);
  const { coordChannels: c, outChannels: dOut } = params;
  const check = (pyramids: Float32Array[]) =>
    pyramids.forEach((x, b) =>
      assert(
        x.length === values,
        'PatchDistances.nearest',
        () => `image ${b} must be an embedding pyramid of ${values} values, got ${x.length}`,
      ),
    );
  if (engine.name === 'ort') {
    const g = new OnnxGraphBuilder('cfa-patch-distances');
    const fed = pyramidWeightFeeds(params.weight, params.bias, levels, c, dOut);
    const constant = (name: string) => g.initializer(name, fed[name].data, fed[name].dims);
    const weights = {
      levels: levels.map((_, i) => constant(`weight_${i}`)),
      weightC: constant('weight_c'),
      bias: constant('bias'),
    };
    const xs = pyramidInputs(g, levels);
    const coords = coordinatesInitializer(g, height, width, c);
    const phi = lowerPyramidForward(g, xs, weights, lowerCoordinateTerm(g, coords, weights), levels);
    const ct = g.initializer('ct', bank.transposed, [dOut, bank.size]),
      cn = g.initializer('cn', bank.squaredNorms, [bank.size]);
    // the pyramid factors W·Cᵀ are constants here: ONNX Runtime folds them once, when the session is built
    const [distances] =
      ranking === 'pyramid' || (ranking === 'auto' && pyramidSearchPays(levels, dOut, Infinity))
        ? lowerPyramidNearest(g, xs, phi, lowerPyramidSearchFactors(g, weights, coords, ct, cn), levels, k)
        : lowerNearest(g, phi, ct, cn, k);
    g.node('Identity', [distances], {}, ['distances']);
    g.output('distances', ['p', k]);
    const runner = await createOrtRunner(engine, g.toBytes(), 'CFA patch distances');
    return {
      async nearest(pyramids) {
        check(pyramids);
        // one image per run: ONNX Runtime's products over 3136 rows measured ≈ 1.4× the rate of
        // one product over a batch of 4 (199 vs 141 GF/s for WRN50-2's descriptor on 2 cores)
        const out = new Float32Array(pyramids.length * hw * k);
        for (const [b, pyramid] of pyramids.entries()) {
          out.set((await runner.run(pyramidFeeds(pyramid, levels))).distances.data as Float32Array, b * hw * k);
        }
        return out;
      },
      release: () => runner.release(),
    };
  }
  const descriptor = await createDescriptorRunner({ engine, height, width, params });
  const search = await createNearestSearch({ engine, dim: dOut });
  return {
    async nearest(pyramids) {
      check(pyramids);
      const phi = await descriptor.forward(
        stackImages(pyramids.map((p) => expandPyramid(p, levels))),
        pyramids.length,
        params,
      );
      return (await search.nearest(phi, pyramids.length * hw, bank, k)).distances;
    },
    async release() {
      await descriptor.release();
      await search.release();
    },
  };
}
