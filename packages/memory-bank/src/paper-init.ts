/**
 * The paper's memory bank (Algorithm 1): C₀ = k-means of φ(p) of the first train image; for each
 * further image i, every centre j (in order) is matched to its nearest patch feature among those
 * not matched yet, and C_i = (1 − β)·C_{i−1} + β·C_i^NN (an exponential moving average).
 * The paper gives no β; ours defaults to 0.1 (a config field, logged with every run).
 *
 * @example
 * ```ts
 * const bank = await paperMemoryBank({ phis: phiPerImage(), hw: 3136, dim: 448, gammaC: 4, beta: 0.1, seed: 0, search });
 * ```
 */
import { centreCount, createMemoryBank, type MemoryBank } from './memory-bank';
import { kmeans } from './kmeans';
import type { NearestSearch } from './nearest-search';

export interface PaperBankParams {
  /** φ of each train image in order, [HW, D′] each. */
  phis: AsyncIterable<Float32Array> | Iterable<Float32Array>;
  hw: number;
  dim: number;
  gammaC: number;
  beta: number;
  seed: number;
  search: NearestSearch;
  kmeansMaxIter?: number;
}

/** Greedy matching in centre order: centre j takes its nearest still-unmatched feature. */
export function greedyMatch(distances: Float32Array, centres: number, features: number): Int32Array {
  if (features < centres)
    throw new Error(`greedyMatch: ${centres} centres need at least as many features, got ${features}`);
  const taken = new Uint8Array(features);
  const match = new Int32Array(centres);
  for (let j = 0; j < centres; j++) {
    let best = -1;
    let bestD = Infinity;
    for (let t = 0, o = j * features; t < features; t++) {
      if (!taken[t] && distances[o + t] < bestD) {
        bestD = distances[o + t];
        best = t;
      }
    }
    taken[best] = 1;
    match[j] = best;
  }
  return match;
}

export async function paperMemoryBank(params: PaperBankParams): Promise<MemoryBank> {
  const { hw, dim, gammaC, beta, seed, search } = params;
  if (!(beta > 0 && beta <= 1)) throw new Error(`paperMemoryBank: beta must be in (0, 1], got ${beta}`);
  const k = Math.max(1, centreCount(hw, gammaC));
  let centres: Float32Array | undefined;
  for await (const phi of params.phis) {
    if (phi.length !== hw * dim)
      throw new Error(`paperMemoryBank: each φ must hold [${hw}, ${dim}] values, got ${phi.length}`);
    if (!centres) {
      centres =
        k === hw
          ? Float32Array.from(phi)
          : (await kmeans({ points: phi, count: hw, dim, k, seed, search, maxIter: params.kmeansMaxIter })).centres;
      continue;
    }
    // distances centre → feature: the image's features act as the "bank" here
    const distances = await search.distanceMatrix(centres, k, createMemoryBank(phi, hw, dim));
    const match = greedyMatch(distances, k, hw);
    for (let j = 0; j < k; j++) {
      for (let c = 0; c < dim; c++)
        centres[j * dim + c] = (1 - beta) * centres[j * dim + c] + beta * phi[match[j] * dim + c];
    }
  }
  if (!centres) throw new Error('paperMemoryBank: the train set gave no images');
  return createMemoryBank(centres, k, dim);
}
