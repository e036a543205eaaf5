/**
 * Splits a batch into `runs/log-batch` requests that each respect every MLflow 3.6 limit: ≤ 1000
 * metrics, ≤ 100 params, ≤ 100 tags, ≤ 1000 entities in all, and a JSON body ≤ 1,000,000 bytes
 * (`mlflow/utils/validation.py`). Order is kept within each kind, params go first (as MLflow's
 * own client sends them), and a param key appears in one request only (the batch is normalised
 * before, so duplicates are gone).
 *
 * @example
 * ```ts
 * const requests = chunkBatch(runId, normalizeBatch({ metrics: twoThousandPoints }));
 * requests.length; // 2
 * ```
 */
import type { Batch, KeyValue } from './entities';
import { LIMITS } from './validation';
import { metricToWire } from './wire-format';

/** A log-batch request body as it goes on the wire. */
export interface LogBatchBody {
  run_id: string;
  metrics: { key: string; value: number | string; timestamp: number; step: number }[];
  params: KeyValue[];
  tags: KeyValue[];
}

/** Request bodies for one normalised batch; each within every limit, with `limits` overridable for tests. */
export function chunkBatch(
  runId: string,
  batch: Required<Batch>,
  limits: Partial<Record<keyof typeof LIMITS, number>> = {},
): LogBatchBody[] {
  const L = { ...LIMITS, ...limits };
  const empty = (): LogBatchBody => ({ run_id: runId, metrics: [], params: [], tags: [] });
  const baseBytes = Buffer.byteLength(JSON.stringify(empty()));
  const bodies: LogBatchBody[] = [];
  let current = empty();
  let bytes = baseBytes;
  const count = () => current.metrics.length + current.params.length + current.tags.length;
  const flush = () => {
    if (count() > 0) bodies.push(current);
    current = empty();
    bytes = baseBytes;
  };
  const add = <K extends 'metrics' | 'params' | 'tags'>(kind: K, entity: LogBatchBody[K][number], cap: number) => {
    // the entity's JSON plus the comma that separates it from the previous one
    const size = Buffer.byteLength(JSON.stringify(entity)) + 1;
    if (current[kind].length >= cap || count() >= L.entitiesPerBatch || bytes + size > L.batchBytes) flush();
    (current[kind] as LogBatchBody[K][number][]).push(entity);
    bytes += size;
  };
  for (const p of batch.params) add('params', p, L.paramsPerBatch);
  for (const t of batch.tags) add('tags', t, L.tagsPerBatch);
  for (const m of batch.metrics) add('metrics', metricToWire(m), L.metricsPerBatch);
  flush();
  return bodies;
}
