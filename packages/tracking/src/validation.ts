/**
 * MLflow's limits (mlflow/utils/validation.py, 3.6), applied on the client so that the local store
 * and the server accept and return exactly the same things:
 *
 * - keys: ≤ 250 characters of `[/\w.\- :]`, not a path that normalises elsewhere (`a/../b`, `/x`);
 * - param values over 6000 and tag values over 8000 characters are truncated (as the server does
 *   silently by default);
 * - log-batch: ≤ 1000 metrics, ≤ 100 params, ≤ 100 tags, ≤ 1000 entities, body ≤ 1,000,000 bytes,
 *   no param key twice — `chunkBatch` splits any batch into requests within all of these.
 */
import { posix } from 'node:path';
import { MlflowInvalidParameterError } from './errors';
import type { Batch, KeyValue } from './types';

export const LIMITS = {
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  entitiesPerBatch: 1000,
  batchBytes: 1_000_000,
  experimentNameLength: 500,
} as const;

const KEY_PATTERN = /^[/\w.\- :]*$/;

export function validateKey(kind: 'metric' | 'param' | 'tag', key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new MlflowInvalidParameterError(`${kind} key must be a non-empty string`, 'INVALID_PARAMETER_VALUE');
  if (key.length > LIMITS.keyLength) throw new MlflowInvalidParameterError(`${kind} key '${key.slice(0, 40)}…' has ${key.length} characters, at most ${LIMITS.keyLength} allowed`, 'INVALID_PARAMETER_VALUE');
  if (!KEY_PATTERN.test(key)) throw new MlflowInvalidParameterError(`${kind} key '${key}' may only hold letters, digits, '_', '-', '.', ' ', ':' and '/'`, 'INVALID_PARAMETER_VALUE');
  const norm = posix.normalize(key);
  if (norm !== key || norm === '.' || norm.startsWith('..') || norm.startsWith('/')) {
    throw new MlflowInvalidParameterError(`${kind} key '${key}' is not a unique relative path (it normalises to '${norm}')`, 'INVALID_PARAMETER_VALUE');
  }
}

export function truncateParam(p: KeyValue): KeyValue {
  return p.value.length > LIMITS.paramValueLength ? { key: p.key, value: p.value.slice(0, LIMITS.paramValueLength) } : p;
}

export function truncateTag(t: KeyValue): KeyValue {
  return t.value.length > LIMITS.tagValueLength ? { key: t.key, value: t.value.slice(0, LIMITS.tagValueLength) } : t;
}

/** Validates keys, truncates values, drops exact duplicate params; a param key with two values fails. */
export function normalizeBatch(batch: Batch): Required<Batch> {
  const metrics = batch.metrics ?? [];
  for (const m of metrics) {
    validateKey('metric', m.key);
    if (typeof m.value !== 'number') throw new MlflowInvalidParameterError(`metric '${m.key}' value must be a number, got ${typeof m.value}`, 'INVALID_PARAMETER_VALUE');
  }
  const seen = new Map<string, string>();
  const params: KeyValue[] = [];
  for (const raw of batch.params ?? []) {
    validateKey('param', raw.key);
    const p = truncateParam({ key: raw.key, value: String(raw.value) });
    const before = seen.get(p.key);
    if (before === undefined) {
      seen.set(p.key, p.value);
      params.push(p);
    } else if (before !== p.value) {
      throw new MlflowInvalidParameterError(`param '${p.key}' appears twice in one batch with different values ('${before}' and '${p.value}')`, 'INVALID_PARAMETER_VALUE');
    }
  }
  const tags = (batch.tags ?? []).map((t) => {
    validateKey('tag', t.key);
    return truncateTag({ key: t.key, value: String(t.value) });
  });
  return { metrics, params, tags };
}

/** JSON size of an entity inside a log-batch body (its share of the 1 MB limit). */
function entityBytes(e: object): number {
  return Buffer.byteLength(JSON.stringify(e)) + 1;
}

/** Splits a normalised batch into requests that each respect every log-batch limit. */
export function chunkBatch(batch: Required<Batch>, overheadBytes = 200): Required<Batch>[] {
  const chunks: Required<Batch>[] = [];
  let current: Required<Batch> = { metrics: [], params: [], tags: [] };
  let bytes = overheadBytes;
  const flush = () => {
    if (current.metrics.length + current.params.length + current.tags.length) chunks.push(current);
    current = { metrics: [], params: [], tags: [] };
    bytes = overheadBytes;
  };
  const add = (kind: 'metrics' | 'params' | 'tags', entity: never, cap: number) => {
    const size = entityBytes(entity);
    const count = current.metrics.length + current.params.length + current.tags.length;
    if (current[kind].length >= cap || count >= LIMITS.entitiesPerBatch || bytes + size > LIMITS.batchBytes) flush();
    (current[kind] as unknown[]).push(entity);
    bytes += size;
  };
  // params first: a run's params should land before its metrics, as MLflow's own client sends them
  for (const p of batch.params) add('params', p as never, LIMITS.paramsPerBatch);
  for (const t of batch.tags) add('tags', t as never, LIMITS.tagsPerBatch);
  for (const m of batch.metrics) add('metrics', m as never, LIMITS.metricsPerBatch);
  flush();
  return chunks;
}
