/**
 * PyTorch's `F.adaptive_avg_pool1d` along a feature axis, as the plan both engines apply: output
 * i averages inputs [⌊i·L/O⌋, ⌈(i+1)·L/O⌉) (aten/src/ATen/native/AdaptiveAveragePooling.cpp
 * `start_index` / `end_index`), so bins may overlap (L/O not whole) or repeat inputs (L < O).
 * PatchCore's `MeanMapper` (each layer's unfolded patch → `pretrain_embed_dimension`) and its
 * `Aggregator` (the layers' vectors → `target_embed_dimension`) are this pooling
 * (patchcore-inspection `src/patchcore/common.py`).
 *
 * A pooling is applied as Σ_s x[index_s]·weight_s over `maxCount` gather slots (slot s of output i
 * reads input start_i + s with weight 1/count_i, or nothing once s ≥ count_i); when L is a whole
 * multiple of O the bins are disjoint and equal, and a reshape + mean does it (`uniformWidth`).
 *
 * @example
 * ```ts
 * const bins = adaptivePoolBins(4608, 1024); // wide_resnet50_2 layer2 unfolded 3×3 → 1024: bins of 5, overlapping by 1
 * bins.starts[1]; // 4
 * const { indices, weights } = adaptivePoolTaps(bins);
 * ```
 */

export interface AdaptivePoolBins {
  inLength: number;
  outLength: number;
  /** First input of each output's bin, [outLength]. */
  starts: Int32Array;
  /** Inputs in each output's bin, [outLength]. */
  counts: Int32Array;
  maxCount: number;
  /** L / O when L is a whole multiple of O (disjoint equal bins: reshape + mean), else 0. */
  uniformWidth: number;
}

export function adaptivePoolBins(inLength: number, outLength: number): AdaptivePoolBins {
  if (!Number.isInteger(inLength) || !Number.isInteger(outLength) || inLength < 1 || outLength < 1)
    throw new Error(`adaptivePoolBins: lengths must be positive integers, got ${inLength} → ${outLength}`);
  const starts = new Int32Array(outLength);
  const counts = new Int32Array(outLength);
  let maxCount = 0;
  for (let i = 0; i < outLength; i++) {
    const start = Math.floor((i * inLength) / outLength);
    const end = Math.floor(((i + 1) * inLength + outLength - 1) / outLength);
    starts[i] = start;
    counts[i] = end - start;
    maxCount = Math.max(maxCount, end - start);
  }
  return {
    inLength,
    outLength,
    starts,
    counts,
    maxCount,
    uniformWidth: inLength % outLength === 0 ? inLength / outLength : 0,
  };
}

/** The gather slots of a pooling: for each slot s, the input read by every output and its weight. */
export function adaptivePoolTaps(bins: AdaptivePoolBins): { indices: Int32Array[]; weights: Float32Array[] } {
  const { outLength, starts, counts, maxCount } = bins;
  const indices: Int32Array[] = [];
  const weights: Float32Array[] = [];
  for (let s = 0; s < maxCount; s++) {
    const index = new Int32Array(outLength);
    const weight = new Float32Array(outLength);
    for (let i = 0; i < outLength; i++) {
      const inside = s < counts[i];
      index[i] = starts[i] + (inside ? s : counts[i] - 1);
      weight[i] = inside ? 1 / counts[i] : 0;
    }
    indices.push(index);
    weights.push(weight);
  }
  return { indices, weights };
}
