/**
 * P-AUPRO: area under the per-region-overlap (PRO) curve up to a false positive rate, divided by
 * that rate (Bergmann et al., MVTec AD, IJCV 2021), computed exactly at every distinct score.
 *
 *   regions  = 8-connected components of each image's mask (R in all images together)
 *   PRO(t)   = (1/R) · Σ_regions |{p ∈ r : score(p) ≥ t}| / |r|
 *   FPR(t)   = |{normal pixels (mask 0, all images) with score ≥ t}| / |normal pixels|
 *   AUPRO    = ∫₀^fprLimit PRO d(FPR) / fprLimit   (trapezoid rule, curve from (0, 0))
 *
 * One sort per class, then a sweep over thresholds descending (`forEachThreshold`): when anomalous pixels of region r
 * reach the threshold, PRO grows by 1/(|r|·R) each; all pixels tied at a score are one step, so
 * the result does not depend on pixel order. The curve is cut at fprLimit with a point linearly
 * interpolated between its neighbours. This is the official MVTec AD evaluation code
 * (`pro_curve_util.py` `compute_pro`, exact-threshold version, then `generic_util.py`
 * `trapezoid(fprs, pros, x_max=0.3) / 0.3`), up to that code's float32 FPRs.
 *
 * Mirrors: anomalib `src/anomalib/metrics/aupro.py`, which reaches the same quantity by averaging
 * per-region ROC curves resampled onto a shared grid; the exact sweep here needs no resampling.
 *
 * @example
 * ```ts
 * import { aupro } from '@cfa/metrics';
 * // one 1×4 image: region = pixels 0–1, normals score 0.5 and 0.1
 * aupro({ maps: Float32Array.of(0.8, 0.5, 0.5, 0.1), masks: Uint8Array.of(1, 1, 0, 0), count: 1, height: 1, width: 4, fprLimit: 0.5 }); // 0.75
 * proCurve({ maps: Float32Array.of(0.8, 0.5, 0.5, 0.1), masks: Uint8Array.of(1, 1, 0, 0), count: 1, height: 1, width: 4 });
 * // fpr [0, 0, 0.5, 1], pro [0, 0.5, 1, 1], thresholds [Infinity, 0.8, 0.5, 0.1]
 * ```
 */
import { connectedComponents } from './connected-components';
import { MetricUndefinedError } from './errors';
import { sortedClasses, type SortedClasses, type SortedScores } from './sorted-classes';
import { forEachThreshold } from './threshold-sweep';
import { assertFprLimit, checkMapsAndMasks, type MapsAndMasks } from './validate';

export interface AuproParams extends MapsAndMasks {
  /** Integration limit on the FPR axis, in (0, 1]; default 0.3 as in the paper. */
  fprLimit?: number;
  /** Region connectivity; default 8 as MVTec AD and anomalib. */
  connectivity?: 4 | 8;
}

const METRIC = 'P-AUPRO';

/**
 * @param params - maps [count, height, width] row-major, finite (Float32Array typical); masks of
 *   the same shape, 0/1 (Uint8Array typical); the shape; `fprLimit` (default 0.3), the integration
 *   limit on the FPR axis in (0, 1]; `connectivity` (default 8), how mask pixels join into regions.
 * @returns AUPRO in [0, 1]: 1 when every anomalous pixel outscores every normal one, 0 when the
 *   reverse, fprLimit/2 when all scores are equal.
 * @throws MetricUndefinedError when no mask has an anomalous pixel (no region), or there is no
 *   normal pixel (no FPR).
 * @throws Error on a bad shape or lengths, a non-finite map value, a mask value other than 0/1,
 *   fprLimit outside (0, 1].
 */
export function aupro(params: AuproParams): number {
  checkMapsAndMasks(METRIC, params);
  assertFprLimit(METRIC, params.fprLimit ?? 0.3);
  return auproOfSorted(params, sortedClasses(params.maps, params.masks));
}

/** `aupro` on validated input whose classes are already sorted (shared by `computeAnomalyMetrics`). */
export function auproOfSorted(params: AuproParams, sorted: SortedClasses): number {
  const { fprLimit = 0.3 } = params;
  let x0 = 0;
  let y0 = 0;
  let area = 0;
  let result: number | undefined;
  sweepProCurve(METRIC, params, sorted, (x1, y1) => {
    if (x1 >= fprLimit) {
      const yAtLimit = y0 + ((y1 - y0) * (fprLimit - x0)) / (x1 - x0);
      result = (area + ((fprLimit - x0) * (y0 + yAtLimit)) / 2) / fprLimit;
      return false;
    }
    area += ((x1 - x0) * (y0 + y1)) / 2;
    x0 = x1;
    y0 = y1;
    return true;
  });
  // not reached without a result: the lowest threshold gives FPR 1 ≥ fprLimit
  return result ?? area / fprLimit;
}

export interface ProCurveParams extends MapsAndMasks {
  /** Stop after the first point at or beyond this FPR, in (0, 1]; default 1 (the whole curve). */
  maxFpr?: number;
  /** Region connectivity; default 8 as MVTec AD and anomalib. */
  connectivity?: 4 | 8;
}

export interface ProCurve {
  /** False positive rate on normal pixels per point, increasing from 0. */
  fpr: Float64Array;
  /** Mean per-region overlap per point, non-decreasing from 0. */
  pro: Float64Array;
  /** Threshold per point (anomalous when score ≥ threshold), decreasing; the first is Infinity. */
  thresholds: Float64Array;
}

/**
 * The PRO curve itself, for plots: one point per distinct score from (0, 0) at threshold
 * Infinity, exactly the points `aupro` integrates (its area up to 0.3, divided by 0.3, is P-AUPRO).
 *
 * @param params - maps, masks and their shape as for `aupro`; `maxFpr` (default 1): stop after the
 *   first point at or beyond this FPR; `connectivity` (default 8): how mask pixels join into regions.
 * @returns fpr, pro and thresholds.
 * @throws MetricUndefinedError when no mask has an anomalous pixel, or there is no normal pixel.
 * @throws Error on a bad shape or lengths, a non-finite map value, a mask value other than 0/1,
 *   maxFpr outside (0, 1].
 */
export function proCurve(params: ProCurveParams): ProCurve {
  const metric = 'PRO curve';
  checkMapsAndMasks(metric, params);
  const maxFpr = params.maxFpr ?? 1;
  assertFprLimit(metric, maxFpr);
  const fpr = [0];
  const pro = [0];
  const thresholds = [Infinity];
  sweepProCurve(metric, params, sortedClasses(params.maps, params.masks), (x, y, t) => {
    fpr.push(x);
    pro.push(y);
    thresholds.push(t);
    return x < maxFpr;
  });
  return { fpr: Float64Array.from(fpr), pro: Float64Array.from(pro), thresholds: Float64Array.from(thresholds) };
}

/**
 * The PRO curve's points in order of descending threshold, after (0, 0): `visit(fpr, pro,
 * threshold)` per distinct score until it returns false. The one implementation behind `aupro`
 * and `proCurve`.
 */
function sweepProCurve(
  metric: string,
  { maps, masks, count, height, width, connectivity = 8 }: MapsAndMasks & { connectivity?: 4 | 8 },
  { negatives, positives }: SortedClasses,
  visit: (fpr: number, pro: number, threshold: number) => boolean,
): void {
  if (positives.length === 0)
    throw new MetricUndefinedError(metric, `the ${count} masks have no anomalous pixel (need at least one region)`);
  if (negatives.length === 0)
    throw new MetricUndefinedError(metric, `all ${masks.length} mask pixels are 1 (the FPR needs normal pixels)`);

  // gain[k]: Σ 1/|r| over anomalous pixels scoring exactly thresholds[k]; divided by R later
  const thresholds = distinctAscending(positives);
  const gain = new Float64Array(thresholds.length);
  let regions = 0;
  const pixels = height * width;
  for (let image = 0; image < count; image++) {
    const offset = image * pixels;
    const {
      labels,
      count: found,
      sizes,
    } = connectedComponents({ mask: imageOf(masks, offset, pixels), height, width, connectivity });
    if (found === 0) continue;
    regions += found;
    for (let i = 0; i < pixels; i++) {
      const id = labels[i];
      if (id !== 0) gain[indexOfValue(thresholds, maps[offset + i])] += 1 / sizes[id];
    }
  }

  // overlapAt[j]: Σ gain over the j highest thresholds, added from the top down as the sweep meets them
  const overlapAt = new Float64Array(thresholds.length + 1);
  for (let j = 1; j <= thresholds.length; j++) overlapAt[j] = overlapAt[j - 1] + gain[thresholds.length - j];

  // thresholds descending over both classes; each step is one point (FPR, PRO) of the curve
  const normals = negatives.length;
  forEachThreshold({ negatives, positives: thresholds }, (t, reached, falsePositives) =>
    // the official code clips too: summing 1/|r| may overshoot 1 by rounding
    visit(falsePositives / normals, Math.min(overlapAt[reached] / regions, 1), t),
  );
}

/** The distinct values of an ascending array, ascending. */
function distinctAscending(sorted: SortedScores): SortedScores {
  const out = sorted.slice();
  let m = 0;
  for (let i = 0; i < out.length; i++) {
    // `!==` also merges -0 with 0, as `===` does in the sweep
    if (m === 0 || out[i] !== out[m - 1]) out[m++] = out[i];
  }
  return out.subarray(0, m);
}

/** Index of `value` in an ascending array that holds it (binary search). */
function indexOfValue(sorted: SortedScores, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

type Viewable = ArrayLike<number> & { subarray(begin: number, end?: number): ArrayLike<number> };

/** One image of a [count, height, width] stack: a view for typed arrays, a copy otherwise. */
function imageOf(stack: ArrayLike<number>, offset: number, length: number): ArrayLike<number> {
  if (typeof (stack as Partial<Viewable>).subarray === 'function')
    return (stack as Viewable).subarray(offset, offset + length);
  return Array.prototype.slice.call(stack, offset, offset + length) as number[];
}
