/**
 * The typed error for a metric that has no value for its input: a single class present (all
 * labels 0 or all 1), or masks without any anomalous pixel. Callers that evaluate many cells
 * (`computeAnomalyMetrics`, sweeps) catch it and report "undefined, because …" instead of a
 * number; every other error (bad lengths, NaN scores) is a bug in the caller and propagates.
 *
 * Mirrors: anomalib `src/anomalib/metrics/aupro.py`, whose degenerate inputs get explicit
 * handling; here the fallback (NaN + reason) is chosen by the caller, not hidden in the metric.
 *
 * @example
 * ```ts
 * import { auroc, MetricUndefinedError } from '@cfa/metrics';
 * try {
 *   auroc({ scores: [0.1, 0.2], labels: [0, 0] });
 * } catch (error) {
 *   if (error instanceof MetricUndefinedError) console.log(error.metric, error.reason);
 *   // "AUROC" "all 2 labels are 0 (need both classes)"
 * }
 * ```
 */
export class MetricUndefinedError extends Error {
  /**
   * @param metric - the metric's display name, e.g. "I-AUROC".
   * @param reason - why it has no value, e.g. "all 30 image labels are 0 (need both classes)".
   */
  constructor(
    readonly metric: string,
    readonly reason: string,
  ) {
    super(`${metric} is undefined: ${reason}`);
    this.name = 'MetricUndefinedError';
  }
}
