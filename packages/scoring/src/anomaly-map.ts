/**
 * From nearest-centre distances to anomaly maps (paper §3.3, Eq. 4–5; anomalib `cfa/anomaly_map.py`):
 *
 *   S_t = d₁ (the nearest of the K distances)
 *   certainty = softmin(d₁ … d_K)[1] = exp(−d₁) / Σ_k exp(−d_k)
 *   A_t = certainty · S_t
 *
 * with d Euclidean (the square root of the squared distances, as the reference code) or squared
 * (selectable). The H×W patch map is upsampled bilinearly (align_corners = false) to the input
 * size and blurred with a Gaussian (σ = 4); the image score is the map's maximum.
 *
 * @example
 * ```ts
 * const patch = patchAnomalyScores({ distances, count: 3136, k: 3, K: 3, metric: 'euclidean' });
 * const maps = anomalyMaps({ scores: patch, count: 1, height: 56, width: 56, outputSize: 224, sigma: 4 });
 * imageScores({ maps, count: 1, size: 224 }); // [max]
 * ```
 */
import { z } from 'zod';
import { bilinearMatrix } from '@cfa/descriptor';
import { gaussianKernel, reflectIndex } from './gaussian-blur';

export const DistanceMetricSchema = z.enum(['euclidean', 'squared']);
export type DistanceMetric = z.infer<typeof DistanceMetricSchema>;

export interface PatchScoreParams {
  /** Squared distances [P, k], ascending along rows. */
  distances: Float32Array;
  count: number;
  /** Row width of `distances`. */
  k: number;
  /** Neighbours in the softmin (K ≤ k). */
  K: number;
  metric: DistanceMetric;
}

export function patchAnomalyScores({ distances, count, k, K, metric }: PatchScoreParams): Float32Array {
  if (K > k || K < 1) throw new Error(`patchAnomalyScores: K must be in [1, ${k}], got ${K}`);
  if (distances.length !== count * k)
    throw new Error(`patchAnomalyScores: distances must hold [${count}, ${k}] values, got ${distances.length}`);
  const out = new Float32Array(count);
  const d = new Float64Array(K);
  for (let t = 0; t < count; t++) {
    for (let j = 0; j < K; j++) {
      // the expanded form ‖f‖²+‖c‖²−2f·c can dip below 0 by rounding; a distance cannot
      const sq = Math.max(0, distances[t * k + j]);
      d[j] = metric === 'euclidean' ? Math.sqrt(sq) : sq;
    }
    // softmin at index 1, shifted by d₁ for stability: 1 / Σ exp(−(d_k − d₁))
    let denom = 0;
    for (let j = 0; j < K; j++) denom += Math.exp(-(d[j] - d[0]));
    out[t] = d[0] / denom;
  }
  return out;
}

export interface AnomalyMapParams {
  /** Patch scores [N, height, width]. */
  scores: Float32Array;
  count: number;
  height: number;
  width: number;
  /** Output side (the model input size, 224). */
  outputSize: number;
  /** Gaussian σ (4); 0 disables smoothing. */
  sigma: number;
}

/**
 * The map pipeline along one axis as one matrix [outSize, inSize]: the Gaussian blur (scipy
 * 'reflect' borders) of the bilinear upsampling, composed in float64. Both steps are linear and
 * separable, so a map is A_h · S · A_wᵀ; each row of A holds ≈ 8σ·in/out + 2 non-zeros (10 for
 * 56 → 224, σ = 4), so a map costs ≈ 0.6 M multiply-adds instead of the 3.3 M of a direct blur.
 */
export interface MapOperator {
  matrix: Float64Array;
  first: Int32Array;
  last: Int32Array;
}
const operators = new Map<string, MapOperator>();

function mapOperator(inSize: number, outSize: number, sigma: number): MapOperator {
  const key = `${inSize}:${outSize}:${sigma}`;
  let op = operators.get(key);
  if (!op) {
    op = buildMapOperator(inSize, outSize, sigma);
    operators.set(key, op);
  }
  return op;
}

/**
 * The map pipeline along one axis as a dense [outSize, inSize] matrix (float64): the Gaussian blur
 * of the bilinear upsampling, exactly what `anomalyMaps` applies. `lowerAnomalyMaps` puts the same
 * matrices into an ONNX graph, so the two compute one operator.
 */
export function mapOperatorMatrix(inSize: number, outSize: number, sigma: number): Float64Array {
  return mapOperator(inSize, outSize, sigma).matrix;
}

function buildMapOperator(inSize: number, outSize: number, sigma: number): MapOperator {
  // float64 weights: the composed operator stays exact where float32 weights would round
  const up = bilinearMatrix(inSize, outSize, 'float64');
  let matrix = up;
  if (sigma > 0) {
    const kernel = gaussianKernel(sigma);
    const radius = (kernel.length - 1) / 2;
    matrix = new Float64Array(outSize * inSize);
    for (let i = 0; i < outSize; i++) {
      for (let k = -radius; k <= radius; k++) {
        const t = reflectIndex(i + k, outSize);
        for (let j = 0; j < inSize; j++) matrix[i * inSize + j] += kernel[k + radius] * up[t * inSize + j];
      }
    }
  }
  return sparseOperator(matrix, inSize, outSize);
}

/** A dense [outSize, inSize] operator with the span of non-zeros of each row, for `applyOperators`. */
export function sparseOperator(matrix: Float64Array, inSize: number, outSize: number): MapOperator {
  const first = new Int32Array(outSize),
    last = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    let a = inSize,
      b = -1;
    for (let j = 0; j < inSize; j++) {
      if (matrix[i * inSize + j] !== 0) {
        a = Math.min(a, j);
        b = j;
      }
    }
    first[i] = a;
    last[i] = b;
  }
  return { matrix, first, last };
}

/** Returns maps [N, outputSize, outputSize]: each patch map upsampled (bilinear) and blurred (σ). */
export function anomalyMaps({ scores, count, height, width, outputSize, sigma }: AnomalyMapParams): Float32Array {
  return separableMaps({
    scores,
    count,
    height,
    width,
    outputSize,
    rows: mapOperator(height, outputSize, sigma),
    cols: mapOperator(width, outputSize, sigma),
    context: 'anomalyMaps',
  });
}

/** Maps [N, outputSize, outputSize] = A_h · S · A_wᵀ for every patch map S [height, width] of `scores`. */
export function separableMaps(p: {
  scores: Float32Array;
  count: number;
  height: number;
  width: number;
  outputSize: number;
  rows: MapOperator;
  cols: MapOperator;
  context: string;
}): Float32Array {
  const { scores, count, height, width, outputSize, rows, cols } = p;
  const hw = height * width;
  if (scores.length !== count * hw)
    throw new Error(`${p.context}: scores must hold [${count}, ${height}, ${width}] values, got ${scores.length}`);
  const size = outputSize * outputSize;
  const out = new Float32Array(count * size);
  for (let n = 0; n < count; n++)
    out.set(applyOperators(scores.subarray(n * hw, (n + 1) * hw), height, width, outputSize, rows, cols), n * size);
  return out;
}

/** A_h · S · A_wᵀ for one [height, width] map (locals only, so the loops compile to plain multiply-adds). */
function applyOperators(
  s: Float32Array,
  height: number,
  width: number,
  outputSize: number,
  rows: MapOperator,
  cols: MapOperator,
): Float32Array {
  const { matrix: a, first: aFirst, last: aLast } = rows;
  const { matrix: b, first: bFirst, last: bLast } = cols;
  const t = new Float64Array(height * outputSize); // S · A_wᵀ, [height, outputSize]
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < outputSize; x++) {
      const base = x * width;
      let v = 0;
      for (let j = bFirst[x], end = bLast[x]; j <= end; j++) v += s[row + j] * b[base + j];
      t[y * outputSize + x] = v;
    }
  }
  const out = new Float32Array(outputSize * outputSize);
  const acc = new Float64Array(outputSize);
  for (let y = 0; y < outputSize; y++) {
    acc.fill(0);
    for (let i = aFirst[y], end = aLast[y]; i <= end; i++) {
      const w = a[y * height + i],
        base = i * outputSize;
      for (let x = 0; x < outputSize; x++) acc[x] += w * t[base + x];
    }
    out.set(acc, y * outputSize);
  }
  return out;
}

/** Image score = max of each map. */
export function imageScores({ maps, count, size }: { maps: Float32Array; count: number; size: number }): Float32Array {
  const per = size * size;
  const out = new Float32Array(count);
  for (let n = 0; n < count; n++) {
    let m = -Infinity;
    for (let i = n * per; i < (n + 1) * per; i++) if (maps[i] > m) m = maps[i];
    out[n] = m;
  }
  return out;
}
