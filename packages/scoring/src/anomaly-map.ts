/**
 * From nearest-centre distances to anomaly maps (paper §3.4; anomalib `cfa/anomaly_map.py`):
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
import { gaussianBlur } from './gaussian-blur';

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
  if (distances.length !== count * k) throw new Error(`patchAnomalyScores: distances must hold [${count}, ${k}] values, got ${distances.length}`);
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

/** Bilinear resize with half-pixel centres (align_corners = false), no antialiasing: for upsampling maps. */
export function upsampleBilinear(map: Float32Array | Float64Array, height: number, width: number, outHeight: number, outWidth: number): Float32Array {
  const out = new Float32Array(outHeight * outWidth);
  const sy = height / outHeight;
  const sx = width / outWidth;
  for (let y = 0; y < outHeight; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(Math.floor(fy), height - 1);
    const y1 = Math.min(y0 + 1, height - 1);
    const wy = fy - y0;
    for (let x = 0; x < outWidth; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.min(Math.floor(fx), width - 1);
      const x1 = Math.min(x0 + 1, width - 1);
      const wx = fx - x0;
      const top = map[y0 * width + x0] * (1 - wx) + map[y0 * width + x1] * wx;
      const bottom = map[y1 * width + x0] * (1 - wx) + map[y1 * width + x1] * wx;
      out[y * outWidth + x] = top * (1 - wy) + bottom * wy;
    }
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

/** Returns maps [N, outputSize, outputSize]. */
export function anomalyMaps({ scores, count, height, width, outputSize, sigma }: AnomalyMapParams): Float32Array {
  const hw = height * width;
  if (scores.length !== count * hw) throw new Error(`anomalyMaps: scores must hold [${count}, ${height}, ${width}] values, got ${scores.length}`);
  const size = outputSize * outputSize;
  const out = new Float32Array(count * size);
  for (let n = 0; n < count; n++) {
    const up = upsampleBilinear(scores.subarray(n * hw, (n + 1) * hw), height, width, outputSize, outputSize);
    out.set(sigma > 0 ? gaussianBlur({ map: up, height: outputSize, width: outputSize, sigma }) : up, n * size);
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
