/**
 * PatchCore's fit (Roth et al. 2022, §3.2; patchcore-inspection `PatchCore._fill_memory_bank`):
 * the train images' patch features are subsampled by the approximate greedy coreset and kept as
 * the memory bank. No training: the coreset's random projection and starting points (seeded) are
 * the only draws. Glue only — the coreset is @cfa/memory-bank's.
 *
 * @example
 * ```ts
 * const model = await fitPatchCore({ config, engine, train, onProgress: (e) => console.log(e.detail) });
 * model.bank.size; // ⌊N·H·W · fraction⌋
 * ```
 */
import type { EngineSelection } from '@cfa/tensor-runtime';
import {
  approximateGreedyCoreset,
  type CoresetDraws,
  coresetDraws,
  coresetSize,
  createMemoryBank,
  type MemoryBank,
} from '@cfa/memory-bank';
import type { EmbeddingSet, FitProgress } from '@cfa/method-kit';
import type { PatchCoreConfig } from './config';

/** A fitted PatchCore model as plain data. */
export interface FittedPatchCore {
  engine: EngineSelection;
  /** The kept patch features [M, D], in the coreset's selection order. */
  bank: MemoryBank;
  /** The patch grid. */
  height: number;
  width: number;
  /** Nearest entries averaged per patch score, and the map's σ. */
  neighbours: number;
  sigma: number;
  /** What the fit cost and chose (zeros and no indices for a model read from a bundle). */
  coreset: {
    trainPatches: number;
    /** Row indices into the train patches (image-major), in selection order; absent when all are kept. */
    indices?: Int32Array;
    projectSeconds: number;
    selectSeconds: number;
  };
  seconds: number;
}

export interface FitPatchCoreOptions {
  config: PatchCoreConfig;
  engine: EngineSelection;
  /** Train features, one [H·W, D] level per image. */
  train: EmbeddingSet;
  onProgress?: (event: FitProgress) => void;
  /** The coreset's draws (default `coresetDraws` of the config's seed); the parity specs inject the reference's. */
  draws?: CoresetDraws;
}

/** The rows `indices` (image-major over `set`) in that order, each image read once. */
async function gatherRows(set: EmbeddingSet, indices: Int32Array, dim: number): Promise<Float32Array> {
  const hw = set.height * set.width;
  const out = new Float32Array(indices.length * dim);
  const byImage = new Map<number, number[]>();
  indices.forEach((row, position) => {
    const image = Math.floor(row / hw);
    let positions = byImage.get(image);
    if (!positions) byImage.set(image, (positions = []));
    positions.push(position);
  });
  for (const [image, positions] of byImage) {
    const features = await set.get(image);
    for (const p of positions) {
      const r = indices[p] - image * hw;
      out.set(features.subarray(r * dim, (r + 1) * dim), p * dim);
    }
  }
  return out;
}

export async function fitPatchCore({
  config,
  engine,
  train,
  onProgress,
  draws,
}: FitPatchCoreOptions): Promise<FittedPatchCore> {
  const start = performance.now();
  const { height, width, channels: dim } = train;
  const hw = height * width;
  const images = train.ids.length;
  const count = images * hw;
  const { fraction } = config.coreset;
  const size = coresetSize(count, fraction);
  const { neighbours, sigma } = config.scoring;
  if (size < neighbours)
    throw new Error(
      `coreset.fraction: ${fraction} of ${count} train patches (${images} images × ${hw}) keeps ${size}, fewer than scoring.neighbours (${neighbours})`,
    );
  const base = { engine, height, width, neighbours, sigma };
  if (fraction === 1) {
    const rows = new Float32Array(count * dim);
    for (let i = 0; i < images; i++) {
      rows.set(await train.get(i), i * hw * dim);
      onProgress?.({ phase: 'bank', done: i + 1, total: images, detail: 'all patches kept (coreset.fraction 1)' });
    }
    return {
      ...base,
      bank: createMemoryBank(rows, count, dim),
      coreset: { trainPatches: count, projectSeconds: 0, selectSeconds: 0 },
      seconds: (performance.now() - start) / 1000,
    };
  }
  const chosen = draws ?? coresetDraws({ seed: config.seed, count, dim, ...config.coreset });
  const coreset = await approximateGreedyCoreset({
    engine,
    blocks: images,
    block: (i) => train.get(i),
    count,
    dim,
    size,
    draws: chosen,
    onProgress: ({ stage, done, total }) =>
      onProgress?.({
        phase: 'bank',
        done,
        total,
        detail:
          stage === 'project'
            ? `coreset: projecting ${images} images' patches to ${chosen.projectionDim} dims`
            : `coreset: ${done}/${size} of ${count} patches (${(100 * fraction).toFixed(fraction < 0.01 ? 2 : 0)} %)`,
      }),
  });
  const rows = await gatherRows(train, coreset.indices, dim);
  return {
    ...base,
    bank: createMemoryBank(rows, size, dim),
    coreset: {
      trainPatches: count,
      indices: coreset.indices,
      projectSeconds: coreset.projectSeconds,
      selectSeconds: coreset.selectSeconds,
    },
    seconds: (performance.now() - start) / 1000,
  };
}
