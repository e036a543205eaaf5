/**
 * The reference code's memory bank (anomalib `cfa/torch_model.py`, `initialize_centroid`): run the
 * untrained descriptor over the whole train set, take the per-location mean of φ(p) → HW vectors,
 * and when γc > 1 reduce them with k-means to ⌊HW/γc⌋ centres.
 *
 * @example
 * ```ts
 * const mean = new RunningMean(3136 * 448);
 * for (const phi of trainBatches) mean.add(phi, batchSize); // φ [B, HW, D′]
 * const bank = await referenceMemoryBank({ meanPhi: mean.value(), hw: 3136, dim: 448, gammaC: 4, seed: 0, search });
 * ```
 */
import { centreCount, createMemoryBank, type MemoryBank } from './memory-bank';
import { kmeans } from './kmeans';
import type { NearestSearch } from './nearest-search';

/** Exact per-location mean over all images (float64 accumulation). */
export class RunningMean {
  private readonly sum: Float64Array;
  private n = 0;

  constructor(readonly length: number) {
    this.sum = new Float64Array(length);
  }

  /** Adds `batch` stacked arrays of `length` values each. */
  add(values: Float32Array, batch: number): void {
    if (values.length !== batch * this.length) {
      throw new Error(`RunningMean.add: expected ${batch} × ${this.length} values, got ${values.length}`);
    }
    for (let b = 0; b < batch; b++)
      for (let i = 0, o = b * this.length; i < this.length; i++) this.sum[i] += values[o + i];
    this.n += batch;
  }

  get count(): number {
    return this.n;
  }

  value(): Float32Array {
    if (this.n === 0) throw new Error('RunningMean.value: no values were added');
    return Float32Array.from(this.sum, (s) => s / this.n);
  }
}

export interface ReferenceBankParams {
  /** Per-location mean of φ over the train set, [HW, D′]. */
  meanPhi: Float32Array;
  hw: number;
  dim: number;
  /** Centre compression γc: ⌊HW/γc⌋ centres. */
  gammaC: number;
  seed: number;
  search: NearestSearch;
  kmeansMaxIter?: number;
}

export async function referenceMemoryBank(params: ReferenceBankParams): Promise<MemoryBank> {
  const { meanPhi, hw, dim, gammaC, seed, search } = params;
  if (gammaC <= 1) return createMemoryBank(Float32Array.from(meanPhi), hw, dim);
  const k = centreCount(hw, gammaC);
  if (k < 1) throw new Error(`referenceMemoryBank: γc = ${gammaC} leaves no centre for ${hw} patch locations`);
  const { centres } = await kmeans({ points: meanPhi, count: hw, dim, k, seed, search, maxIter: params.kmeansMaxIter });
  return createMemoryBank(centres, k, dim);
}
