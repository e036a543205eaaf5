/**
 * @cfa/metrics — anomaly detection and localization metrics on plain typed arrays (no tensors,
 * no runtime dependencies). Scores: higher = more anomalous; labels and masks: 0 normal, 1
 * anomalous; a sample is predicted anomalous when its score ≥ threshold; tied scores are one
 * threshold step everywhere, so no result depends on sample order.
 *
 * - `auroc`: exact area under the ROC curve (Mann–Whitney, ties ½): I-AUROC on image scores,
 *   P-AUROC on every pixel.
 * - `rocCurve`: the ROC curve's points, for plots (its trapezoid area is `auroc`).
 * - `aupro`: exact area under the per-region-overlap curve up to FPR 0.3, divided by 0.3
 *   (P-AUPRO; MVTec AD's definition).
 * - `pixelProReference`: the CFA reference code's PRO number (`pro_auc_pxl`: 200 thresholds, FPR
 *   ≤ 0.3, both axes min-max rescaled), "P-PRO (ref)"; `rescaleFloat32` is its trainer's map rescale.
 * - `proCurve`: the PRO curve's points, for plots (the same sweep `aupro` integrates).
 * - `connectedComponents`: the mask regions AUPRO averages over (8-connectivity by default).
 * - `f1Max`: best F1 over all thresholds with the (lowest) threshold reaching it, image or pixel
 *   level.
 * - `computeAnomalyMetrics`: all of the above for one evaluation; a metric undefined for the
 *   input is NaN, with the reason in `undefinedMetrics`.
 * - `MetricUndefinedError`: thrown by the single metrics for input with no value (one class only).
 *
 * Mirrors: anomalib `src/anomalib/metrics/__init__.py` (a docstring listing every metric, then
 * each export by name).
 *
 * @example
 * ```ts
 * import { auroc, computeAnomalyMetrics } from '@cfa/metrics';
 * auroc({ scores: Float32Array.of(0.1, 0.9), labels: Uint8Array.of(0, 1) }); // 1
 * ```
 */
export { auroc, rocCurve } from './roc';
export type { AurocParams, RocCurve, RocCurveParams } from './roc';
export { aupro, proCurve } from './pro';
export type { AuproParams, ProCurve, ProCurveParams } from './pro';
export { pixelProReference, rescaleFloat32 } from './pro-reference';
export type { ProReferenceParams } from './pro-reference';
export { connectedComponents } from './connected-components';
export type { Components, ConnectedComponentsParams } from './connected-components';
export { f1Max } from './f1';
export type { F1Max, F1MaxParams } from './f1';
export { computeAnomalyMetrics } from './evaluate';
export type { AnomalyMetrics, AnomalyMetricsInput } from './evaluate';
export { MetricUndefinedError } from './errors';
export type { MapsAndMasks, MessageNames } from './validate';
