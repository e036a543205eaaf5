/**
 * P-PRO (ref): the per-region-overlap number the CFA reference code reports
 * (sungwool/CFA_for_anomaly_localization `utils/metric.py` `pro_auc_pxl`), which is not MVTec's
 * AUPRO (`aupro`, which we report as P-AUPRO). docs/defaults.md puts the two side by side.
 *
 *   thresholds t_s = max − s·Δ, Δ = (max − min)/steps, s = 0 … steps−1 (float32, as NumPy computes
 *                    them from float32 maps; the lowest, min + Δ, is never reached)
 *   on(p, s)   = score(p) > t_s
 *   PRO(s)     = mean over all regions (8-connected components of every mask) of the fraction of
 *                the region that is on
 *   FPR(s)     = on normal pixels / normal pixels
 *   keep the points with FPR ≤ fprLimit, min-max rescale the kept FPRs and the kept PROs to
 *   [0, 1] each, and return the trapezoid area under that curve.
 *
 * Because both axes are rescaled, the value is 1 for any curve that is a straight rise and does
 * not shrink with the FPR range it covers — a different number from MVTec's AUPRO, which
 * integrates PRO over FPR ∈ [0, 0.3] and divides by 0.3. The reference trainer passes maps
 * min-max rescaled over the whole test set (`rescale(heatmaps)`); `computeAnomalyMetrics` does
 * the same (`rescaleFloat32`) before calling this.
 *
 * Each pixel's first "on" step is found by binary search over the descending thresholds, so the
 * cost is O(pixels · log steps) rather than the reference's O(pixels · steps); counts per step
 * are then accumulated.
 *
 * @example
 * ```ts
 * import { pixelProReference } from '@cfa/metrics';
 * pixelProReference({ maps, masks, count, height, width }); // in [0, 1]
 * ```
 */
import { connectedComponents } from './connected-components';
import { MetricUndefinedError } from './errors';
import { assertFprLimit, checkMapsAndMasks, type MapsAndMasks } from './validate';

export interface ProReferenceParams extends MapsAndMasks {
  /** Number of thresholds (the reference code's `max_step`, 200). */
  steps?: number;
  /** FPR limit of the kept points (`expect_fpr`, 0.3). */
  fprLimit?: number;
}

const METRIC = 'P-PRO (ref)';

/** The reference's thresholds in float32: t_s = max − s·Δ. */
function referenceThresholds(max: number, min: number, steps: number): Float64Array {
  const f = Math.fround;
  const delta = f(f(max - min) / steps);
  return Float64Array.from({ length: steps }, (_, s) => f(max - f(s * delta)));
}

/** First step s at which score > t_s (thresholds non-increasing); `steps` when never. */
function firstOnStep(score: number, thresholds: Float64Array): number {
  let lo = 0;
  let hi = thresholds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (score > thresholds[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** (x − min) / (max − min) in float64, as the reference's `rescale` on float64 arrays. */
function rescaled(values: Float64Array): Float64Array {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return values.map((v) => (v - min) / (max - min));
}

/**
 * @param params - maps [count, height, width] in float32 (Float32Array typical; other arrays are
 *   compared as given), masks [count, height, width] 0/1, the shape, `steps` (default 200) and
 *   `fprLimit` (default 0.3).
 * @returns the reference code's PRO value in [0, 1].
 * @throws MetricUndefinedError when no mask has a region, there is no normal pixel, or fewer than
 *   two points are kept / the curve is constant (the reference divides 0 by 0 there and reports NaN).
 * @throws Error on bad shapes, non-finite maps, masks not 0/1, fprLimit outside (0, 1].
 */
export function pixelProReference(params: ProReferenceParams): number {
  checkMapsAndMasks(METRIC, params);
  const { maps, masks, count, height, width, steps = 200, fprLimit = 0.3 } = params;
  assertFprLimit(METRIC, fprLimit);
  if (!Number.isSafeInteger(steps) || steps < 2)
    throw new Error(`${METRIC}: steps must be an integer ≥ 2, got ${steps}`);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < maps.length; i++) {
    const v = maps[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const thresholds = referenceThresholds(max, min, steps);
  // per first-on step: normal pixels, and Σ 1/|region| over region pixels
  const falsePositives = new Float64Array(steps + 1);
  const overlap = new Float64Array(steps + 1);
  const pixels = height * width;
  let normals = 0;
  let regions = 0;
  for (let image = 0; image < count; image++) {
    const offset = image * pixels;
    const mask = Array.prototype.slice.call(masks, offset, offset + pixels) as number[];
    const { labels, count: found, sizes } = connectedComponents({ mask, height, width, connectivity: 8 });
    regions += found;
    for (let i = 0; i < pixels; i++) {
      const step = firstOnStep(maps[offset + i], thresholds);
      if (labels[i] === 0) {
        normals++;
        falsePositives[step]++;
      } else {
        overlap[step] += 1 / sizes[labels[i]];
      }
    }
  }
  if (regions === 0) throw new MetricUndefinedError(METRIC, `the ${count} masks have no anomalous pixel (no region)`);
  if (normals === 0) throw new MetricUndefinedError(METRIC, 'every mask pixel is 1 (the FPR needs normal pixels)');
  const fprs: number[] = [];
  const pros: number[] = [];
  let fp = 0;
  let on = 0;
  for (let s = 0; s < steps; s++) {
    fp += falsePositives[s];
    on += overlap[s];
    const fpr = fp / normals;
    if (fpr <= fprLimit) {
      fprs.push(fpr);
      pros.push(on / regions);
    }
  }
  const x = rescaled(Float64Array.from(fprs));
  const y = rescaled(Float64Array.from(pros));
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  if (!Number.isFinite(area) || x.length < 2) {
    throw new MetricUndefinedError(
      METRIC,
      `${x.length} of ${steps} thresholds have FPR ≤ ${fprLimit} and the kept curve is ${x.length < 2 ? 'a single point' : 'constant on one axis'}, so its min-max rescaling divides by zero`,
    );
  }
  return area;
}

/**
 * The reference trainer's `rescale(heatmaps)`: (x − min) / (max − min) over all maps, in float32.
 * Returns a copy; constant maps give NaN, as in NumPy.
 */
export function rescaleFloat32(maps: ArrayLike<number>): Float32Array {
  const f = Math.fround;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < maps.length; i++) {
    const v = f(maps[i]);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = f(max - min);
  const out = new Float32Array(maps.length);
  for (let i = 0; i < maps.length; i++) out[i] = f(f(maps[i]) - min) / range;
  return out;
}
