/**
 * Area under the per-region-overlap curve up to a false-positive rate (MVTec AD's AUPRO;
 * anomalib `metrics/aupro.py`). Regions are the connected components of each image's mask.
 *
 *   PRO(t) = mean over all regions r of |{p ∈ r : score(p) ≥ t}| / |r|
 *   FPR(t) = |{normal pixels with score ≥ t}| / |normal pixels|
 *
 * Every distinct score is a threshold (exact, no binning); tied scores move together. The curve
 * from (0, 0) is integrated with the trapezoid rule up to `fprLimit` (interpolating at it) and
 * divided by `fprLimit`, so a perfect map scores 1.
 *
 * @example
 * ```ts
 * aupro({ maps, masks, count: 10, height: 224, width: 224 }); // in [0, 1]
 * ```
 */
import { connectedComponents } from './connected-components';
import { checkScoresAndLabels, MetricUndefinedError } from './errors';

export interface AuproParams {
  /** Anomaly maps [count, height, width]. */
  maps: ArrayLike<number>;
  /** Ground truth 0/1 [count, height, width]. */
  masks: ArrayLike<number>;
  count: number;
  height: number;
  width: number;
  fprLimit?: number;
  connectivity?: 4 | 8;
}

export function aupro({ maps, masks, count, height, width, fprLimit = 0.3, connectivity = 8 }: AuproParams): number {
  const name = 'P-AUPRO';
  const per = height * width;
  if (maps.length !== count * per) throw new Error(`${name}: maps has ${maps.length} values, [${count}, ${height}, ${width}] needs ${count * per}`);
  checkScoresAndLabels(name, maps, masks, ['maps', 'masks']);
  if (!(fprLimit > 0 && fprLimit <= 1)) throw new Error(`${name}: fprLimit must be in (0, 1], got ${fprLimit}`);
  // every anomalous pixel with the weight it adds to the mean overlap when it crosses
  const anomalousScores: number[] = [];
  const weights: number[] = [];
  const regionSizes: number[] = [];
  for (let n = 0; n < count; n++) {
    const mask = Array.prototype.slice.call(masks, n * per, (n + 1) * per) as number[];
    const { labels, count: found, sizes } = connectedComponents({ mask, width, height, connectivity });
    const base = regionSizes.length;
    for (let r = 1; r <= found; r++) regionSizes.push(sizes[r]);
    for (let i = 0; i < per; i++) {
      if (labels[i]) {
        anomalousScores.push(maps[n * per + i]);
        weights.push(base + labels[i] - 1);
      }
    }
  }
  const regions = regionSizes.length;
  if (regions === 0) throw new MetricUndefinedError(name, `no anomalous region in ${count} masks`);
  const normalCount = count * per - anomalousScores.length;
  if (normalCount === 0) throw new MetricUndefinedError(name, 'no normal pixel (FPR undefined)');
  const normals = new Float64Array(normalCount);
  for (let i = 0, k = 0; i < masks.length; i++) if (!masks[i]) normals[k++] = maps[i];
  normals.sort();
  const order = Uint32Array.from(anomalousScores.keys()).sort((a, b) => anomalousScores[b] - anomalousScores[a]);

  let n = normals.length - 1, a = 0;
  let fp = 0, pro = 0;
  let prevFpr = 0, prevPro = 0, area = 0;
  while (n >= 0 || a < order.length) {
    const t = Math.max(n >= 0 ? normals[n] : -Infinity, a < order.length ? anomalousScores[order[a]] : -Infinity);
    while (n >= 0 && normals[n] === t) { fp++; n--; }
    while (a < order.length && anomalousScores[order[a]] === t) {
      pro += 1 / (regionSizes[weights[order[a]]] * regions);
      a++;
    }
    const fpr = fp / normalCount;
    if (fpr >= fprLimit) {
      const proAtLimit = fpr === prevFpr ? pro : prevPro + ((pro - prevPro) * (fprLimit - prevFpr)) / (fpr - prevFpr);
      area += ((fprLimit - prevFpr) * (prevPro + proAtLimit)) / 2;
      return area / fprLimit;
    }
    area += ((fpr - prevFpr) * (prevPro + pro)) / 2;
    prevFpr = fpr;
    prevPro = pro;
  }
  return area / fprLimit;
}
