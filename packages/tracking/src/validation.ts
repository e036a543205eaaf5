/**
 * MLflow 3.6's limits and name rules (`mlflow/utils/validation.py`), applied before anything is
 * written, so that the local store and the server accept and return exactly the same things and a
 * bad key fails at once with an error that names it:
 *
 * - metric, param and tag keys: ≤ 250 characters of `[/\w.\- :]`, and a path that does not
 *   normalise to something else (`a/../b`, `/x`, `./x`, '');
 * - param values over 6000 and tag values over 8000 characters are truncated, as the server does
 *   silently by default (`MLFLOW_TRUNCATE_LONG_VALUES`);
 * - metric values are numbers (NaN and ±Infinity included), timestamps integers ≥ 0, steps integers;
 * - a param key twice in one batch with two values is a conflict; with one value it is sent once;
 * - experiment names 1–500 characters without `'` (MLflow's file store builds an unescaped filter
 *   from the name, so it refuses such names); run ids `^[a-zA-Z0-9][\w\-]{0,255}$`; experiment ids
 *   `^[a-zA-Z0-9][\w\-]{0,63}$`.
 *
 * The log-batch request limits (1000 metrics, 100 params, 100 tags, 1000 entities, 1 MB) are here
 * too; `chunkBatch` applies them.
 *
 * @example
 * ```ts
 * validateKey('metric', 'loss/att');   // fine: '/' makes a sub-folder in the file store
 * validateKey('metric', 'auroc@k');    // throws MlflowInvalidKeyError naming 'auroc@k'
 * ```
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { MlflowInvalidKeyError, MlflowInvalidParameterError, MlflowParamConflictError } from './errors';
import { type Batch, type DatasetInput, DatasetInputSchema, type KeyValue, type Metric } from './entities';

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
  searchMaxResults: 50_000,
} as const;

const KEY_PATTERN = /^[/\w.\- :]*$/;
const RUN_ID_PATTERN = /^[a-zA-Z0-9][\w-]{0,255}$/;
const EXPERIMENT_ID_PATTERN = /^[a-zA-Z0-9][\w-]{0,63}$/;

/** Throws `MlflowInvalidKeyError` for a key MLflow would refuse. */
export function validateKey(kind: 'metric' | 'param' | 'tag', key: unknown): asserts key is string {
  if (typeof key !== 'string')
    throw new MlflowInvalidKeyError(kind, String(key), `expected a string, got ${typeof key}`);
  if (key.length > LIMITS.keyLength)
    throw new MlflowInvalidKeyError(kind, key, `${key.length} characters, at most ${LIMITS.keyLength} allowed`);
  if (!KEY_PATTERN.test(key))
    throw new MlflowInvalidKeyError(
      kind,
      key,
      "names may only contain letters, digits, '_', '-', '.', ' ', ':' and '/'",
    );
  // Python's posixpath.normpath, which also drops a trailing '/'
  const norm = posix.normalize(key).replace(/(.)\/+$/, '$1');
  if (norm !== key || norm === '.' || norm.startsWith('..') || norm.startsWith('/')) {
    throw new MlflowInvalidKeyError(
      kind,
      key,
      `names are also file paths and must not resolve to another name; this one resolves to '${norm}'`,
    );
  }
}

export function validateRunId(runId: unknown): asserts runId is string {
  if (typeof runId !== 'string' || !RUN_ID_PATTERN.test(runId)) {
    throw new MlflowInvalidParameterError(
      `Invalid value ${JSON.stringify(runId)} for parameter 'run_id' supplied.`,
      'INVALID_PARAMETER_VALUE',
    );
  }
}

export function validateExperimentId(experimentId: unknown): asserts experimentId is string {
  if (typeof experimentId !== 'string' || !EXPERIMENT_ID_PATTERN.test(experimentId)) {
    throw new MlflowInvalidParameterError(
      `Invalid experiment ID: '${String(experimentId)}'`,
      'INVALID_PARAMETER_VALUE',
    );
  }
}

export function validateExperimentName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '')
    throw new MlflowInvalidParameterError(
      `Invalid experiment name: '${String(name ?? '')}'`,
      'INVALID_PARAMETER_VALUE',
    );
  if (name.length > LIMITS.experimentNameLength) {
    throw new MlflowInvalidParameterError(
      `'name' exceeds the maximum length of ${LIMITS.experimentNameLength} characters`,
      'INVALID_PARAMETER_VALUE',
    );
  }
  if (name.includes("'")) {
    // MLflow 3.6's file store looks names up with the filter `name = '<name>'`, unescaped: such a
    // name can be neither created nor found there (400 "Invalid clause(s) in filter string")
    throw new MlflowInvalidParameterError(
      `experiment name ${JSON.stringify(name)}: a single quote cannot be used, MLflow's file store cannot look such a name up`,
      'INVALID_PARAMETER_VALUE',
    );
  }
}

/** A request checked against its (strict) schema; `MlflowInvalidParameterError` naming `what` and each issue otherwise. */
export function parseRequest<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new MlflowInvalidParameterError(`${what}: ${z.prettifyError(parsed.error)}`, 'INVALID_PARAMETER_VALUE');
  return parsed.data;
}

/** MLflow's `_validate_logged_model_name`: non-empty, none of / : . % " '. */
export function validateLoggedModelName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !name || /[/:.%"']/.test(name))
    throw new MlflowInvalidParameterError(
      `Invalid model name (${JSON.stringify(name)}) provided. Model name must be a non-empty string and cannot contain the following characters: ('/', ':', '.', '%', '"', "'")`,
      'INVALID_PARAMETER_VALUE',
    );
}

export function truncateParam(p: KeyValue): KeyValue {
  return p.value.length > LIMITS.paramValueLength
    ? { key: p.key, value: p.value.slice(0, LIMITS.paramValueLength) }
    : p;
}

export function truncateTag(t: KeyValue): KeyValue {
  return t.value.length > LIMITS.tagValueLength ? { key: t.key, value: t.value.slice(0, LIMITS.tagValueLength) } : t;
}

function validateMetric(m: Metric, index: number): Metric {
  validateKey('metric', m?.key);
  if (typeof m.value !== 'number') {
    throw new MlflowInvalidParameterError(
      `metrics[${index}] '${m.key}': value must be a number (NaN and ±Infinity allowed), got ${typeof m.value}`,
      'INVALID_PARAMETER_VALUE',
    );
  }
  if (!Number.isSafeInteger(m.timestamp) || m.timestamp < 0) {
    throw new MlflowInvalidParameterError(
      `metrics[${index}] '${m.key}': timestamp must be an integer ≥ 0 (milliseconds since the epoch), got ${m.timestamp}`,
      'INVALID_PARAMETER_VALUE',
    );
  }
  if (!Number.isSafeInteger(m.step))
    throw new MlflowInvalidParameterError(
      `metrics[${index}] '${m.key}': step must be an integer, got ${m.step}`,
      'INVALID_PARAMETER_VALUE',
    );
  for (const field of ['modelId', 'datasetName', 'datasetDigest'] as const)
    if (m[field] !== undefined && (typeof m[field] !== 'string' || !m[field]))
      throw new MlflowInvalidParameterError(
        `metrics[${index}] '${m.key}': ${field} must be a non-empty string when given`,
        'INVALID_PARAMETER_VALUE',
      );
  if (Boolean(m.datasetName) !== Boolean(m.datasetDigest))
    throw new MlflowInvalidParameterError(
      `metrics[${index}] '${m.key}': datasetName and datasetDigest go together (MLflow records the dataset only when both are given)`,
      'INVALID_PARAMETER_VALUE',
    );
  return {
    key: m.key,
    value: m.value,
    timestamp: m.timestamp,
    step: m.step,
    ...(m.modelId ? { modelId: m.modelId } : {}),
    ...(m.datasetName ? { datasetName: m.datasetName, datasetDigest: m.datasetDigest } : {}),
  };
}

/**
 * A batch as the server will store it: keys checked, values stringified and truncated, a param
 * repeated with the same value sent once. Throws `MlflowParamConflictError` for a param key given
 * two values, `MlflowInvalidKeyError` / `MlflowInvalidParameterError` for anything MLflow refuses.
 */
export function normalizeBatch(batch: Batch): Required<Batch> {
  const metrics = (batch.metrics ?? []).map(validateMetric);
  const seen = new Map<string, string>();
  const params: KeyValue[] = [];
  for (const raw of batch.params ?? []) {
    validateKey('param', raw?.key);
    const p = truncateParam({ key: raw.key, value: String(raw.value ?? '') });
    const before = seen.get(p.key);
    if (before === undefined) {
      seen.set(p.key, p.value);
      params.push(p);
    } else if (before !== p.value) {
      throw new MlflowParamConflictError(
        `param '${p.key}' appears twice in one batch with different values ('${before}' and '${p.value}')`,
        'INVALID_PARAMETER_VALUE',
      );
    }
  }
  const tags = (batch.tags ?? []).map((t) => {
    validateKey('tag', t?.key);
    return truncateTag({ key: t.key, value: String(t.value ?? '') });
  });
  return { metrics, params, tags };
}

/** A logged model's params or tags (`record` may be absent): keys checked as a run's, values stringified and truncated. */
export function normalizeLoggedModelValues(
  kind: 'param' | 'tag',
  record: Record<string, string> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record ?? {})) {
    validateKey(kind, key);
    const kv = { key, value: String(value ?? '') };
    out[key] = (kind === 'param' ? truncateParam(kv) : truncateTag(kv)).value;
  }
  return out;
}

/**
 * Dataset inputs checked against MLflow's limits (name ≤ 500, digest ≤ 36, source ≤ 65535
 * characters, input tag keys ≤ 255 and values ≤ 500), duplicates (same name and digest) dropped.
 */
export function normalizeDatasetInputs(inputs: unknown): DatasetInput[] {
  const parsed = z.array(DatasetInputSchema).safeParse(inputs);
  if (!parsed.success)
    throw new MlflowInvalidParameterError(
      `dataset inputs: ${z.prettifyError(parsed.error)}`,
      'INVALID_PARAMETER_VALUE',
    );
  const seen = new Set<string>();
  return parsed.data.filter((d) => {
    const id = `${d.dataset.name}\u0000${d.dataset.digest}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
