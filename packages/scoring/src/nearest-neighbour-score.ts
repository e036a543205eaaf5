/**
 * PatchCore's patch score (Roth et al. 2022, §3.3; patchcore-inspection `src/patchcore/common.py`
 * `NearestNeighbourScorer.predict`): the mean over a patch's k nearest memory-bank entries of the
 * distance faiss's `IndexFlatL2` reports — the SQUARED Euclidean distance (faiss clamps the
 * expanded form ‖f‖² + ‖c‖² − 2 f·c at 0). The paper writes s* = ‖m_test − m*‖₂; the code, which
 * produced its tables, scores with the square; we follow the code (docs/patchcore.md). With k = 1
 * (the paper's setting) the score is the nearest squared distance.
 *
 * The image score of the code is the largest patch score (`PatchMaker.score`: max over the
 * patches), not the paper's softmax reweighting of Eq. 7: `imageScores` of `anomaly-map.ts` on the
 * [N, H, W] patch scores.
 *
 * @example
 * ```ts
 * const { distances } = await search.nearest(features, 784, bank, 1);
 * const scores = nearestNeighbourScores({ distances, count: 784, k: 1 }); // [784]
 * ```
 */

export interface NearestNeighbourScoreParams {
  /** Squared distances [count, k] (the k nearest, any order). */
  distances: Float32Array;
  count: number;
  k: number;
}

/** Mean of each row's k squared distances, each clamped at 0: [count]. */
export function nearestNeighbourScores({ distances, count, k }: NearestNeighbourScoreParams): Float32Array {
  if (!(Number.isInteger(k) && k >= 1))
    throw new Error(`nearestNeighbourScores: k must be a positive integer, got ${k}`);
  if (distances.length !== count * k)
    throw new Error(`nearestNeighbourScores: distances must hold [${count}, ${k}] values, got ${distances.length}`);
  const out = new Float32Array(count);
  for (let t = 0; t < count; t++) {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.max(0, distances[t * k + j]);
    out[t] = sum / k;
  }
  return out;
}
