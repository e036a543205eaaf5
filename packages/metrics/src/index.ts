/**
 * @cfa/metrics — anomaly detection and localization metrics on plain typed arrays (no tensors):
 *
 * - `auroc`: area under the ROC curve (I-AUROC on image scores, P-AUROC on pixels).
 * - `aupro`: area under the per-region-overlap curve up to FPR 0.3, normalised (P-AUPRO).
 * - `f1Max`: best F1 over thresholds, with the threshold (image and pixel level).
 * - `connectedComponents`: mask regions for AUPRO (8-connectivity).
 * - `computeAnomalyMetrics`: all of the above for one evaluation; undefined ones are NaN with a reason.
 * - `MetricUndefinedError`: raised for input that has no value (a single class).
 */
export { auroc } from './roc';
export { aupro } from './pro';
export type { AuproParams } from './pro';
export { f1Max } from './f1';
export type { F1Max } from './f1';
export { connectedComponents } from './connected-components';
export type { Components } from './connected-components';
export { computeAnomalyMetrics } from './evaluate';
export type { AnomalyMetrics, AnomalyMetricsInput } from './evaluate';
export { MetricUndefinedError } from './errors';
