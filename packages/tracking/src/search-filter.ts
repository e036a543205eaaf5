/**
 * The part of MLflow's run search (`mlflow/utils/search_utils.py`) that sweeps need, evaluated
 * locally by the file store and the fake server the way MLflow's file store evaluates it:
 *
 *   tags.`mlflow.parentRunId` = 'abc' AND params.lr != '0.1' AND metrics.auroc >= 0.9
 *   attributes.status = 'FINISHED'   (also run_name, run_id, start_time, end_time, user_id)
 *   tags.cell LIKE 'weave%'          (ILIKE: case-insensitive)
 *
 * Runs are ordered by start_time DESC then run_id ASC, then by each `order_by` clause (a missing
 * value sorts last either way). Pages are offsets in MLflow's own page-token format, base64 of
 * `{"offset": n}`.
 *
 * @example
 * ```ts
 * const clauses = parseFilter("tags.group = 'search' and attributes.status = 'FAILED'");
 * const page = paginate(sortRuns(runs.filter((r) => matchesFilter(r, clauses)), []), 2);
 * ```
 */
import type { LoggedModel, SearchLoggedModelsRequest } from './entities';
import type { Run } from './entities';
import { MlflowInvalidParameterError } from './errors';

export interface FilterClause {
  entity: 'tags' | 'params' | 'metrics' | 'attributes';
  key: string;
  op: '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE';
  value: string | number;
}

const ENTITY_ALIASES: Record<string, FilterClause['entity']> = {
  tag: 'tags',
  tags: 'tags',
  param: 'params',
  params: 'params',
  parameter: 'params',
  parameters: 'params',
  metric: 'metrics',
  metrics: 'metrics',
  attribute: 'attributes',
  attributes: 'attributes',
  attr: 'attributes',
  run: 'attributes',
};

const ATTRIBUTES = new Set([
  'status',
  'run_name',
  'run_id',
  'start_time',
  'end_time',
  'user_id',
  'artifact_uri',
  'lifecycle_stage',
]);

/** Logged-model attributes (`SearchLoggedModelsUtils.VALID_SEARCH_ATTRIBUTE_KEYS`), usable bare: `name = 'x'`. */
const LOGGED_MODEL_ATTRIBUTES = new Set([
  'name',
  'model_id',
  'model_type',
  'status',
  'source_run_id',
  'creation_timestamp',
  'creation_time',
  'last_updated_timestamp',
  'last_updated_time',
]);

const BARE_CLAUSE =
  /^\s*(`[^`]+`|"[^"]+"|\w+)\s*(!=|>=|<=|=|>|<|ILIKE|LIKE)\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?[\d.]+(?:[eE][-+]?\d+)?)\s*$/i;

const CLAUSE =
  /^\s*(\w+)\.(`[^`]+`|"[^"]+"|[\w.\-/:]+)\s*(!=|>=|<=|=|>|<|ILIKE|LIKE)\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?[\d.]+(?:[eE][-+]?\d+)?)\s*$/i;

const invalid = (message: string) => new MlflowInvalidParameterError(message, 'INVALID_PARAMETER_VALUE');

export function parseFilter(
  filter: string | undefined,
  attributes: ReadonlySet<string> = ATTRIBUTES,
  bareAttributes = false,
): FilterClause[] {
  if (!filter || !filter.trim()) return [];
  return filter.split(/\s+AND\s+/i).map((part) => {
    const bare = bareAttributes ? BARE_CLAUSE.exec(part) : null;
    const m = bare ? [part, 'attributes', bare[1], bare[2], bare[3]] : CLAUSE.exec(part);
    if (!m) throw invalid(`Invalid clause(s) in filter string: '${part.trim()}'`);
    const entity = ENTITY_ALIASES[m[1].toLowerCase()];
    if (!entity)
      throw invalid(`Invalid entity type '${m[1]}'. Valid values are ['metric', 'parameter', 'tag', 'attribute']`);
    const key = m[2].replace(/^[`"]|[`"]$/g, '');
    if (entity === 'attributes' && !attributes.has(key)) throw invalid(`Invalid attribute key '${key}' specified.`);
    const raw = m[4];
    const value = /^['"]/.test(raw) ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : Number(raw);
    return { entity, key, op: m[3].toUpperCase() as FilterClause['op'], value };
  });
}

function attribute(run: Run, key: string): string | number | undefined {
  const i = run.info;
  const values: Record<string, string | number | undefined> = {
    status: i.status,
    run_name: i.runName,
    run_id: i.runId,
    start_time: i.startTime,
    end_time: i.endTime,
    user_id: i.userId,
    artifact_uri: i.artifactUri,
    lifecycle_stage: i.lifecycleStage,
  };
  return values[key];
}

function lookup(run: Run, entity: FilterClause['entity'], key: string): string | number | undefined {
  switch (entity) {
    case 'tags':
      return run.data.tags[key];
    case 'params':
      return run.data.params[key];
    case 'metrics':
      return run.data.metrics[key]?.value;
    case 'attributes':
      return attribute(run, key);
  }
}

function likeToRegExp(pattern: string, flags: string): RegExp {
  return new RegExp(
    `^${pattern
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      .replace(/%/g, '.*')
      .replace(/_/g, '.')}$`,
    flags,
  );
}

export function matchesFilter(run: Run, clauses: FilterClause[]): boolean {
  return matchesClauses((entity, key) => lookup(run, entity, key), clauses);
}

/** Whether the clauses hold for an entity whose values `valueOf` gives (undefined: it has none, the clause fails). */
function matchesClauses(
  valueOf: (entity: FilterClause['entity'], key: string) => string | number | undefined,
  clauses: FilterClause[],
): boolean {
  return clauses.every((c) => {
    const v = valueOf(c.entity, c.key);
    if (v === undefined) return false;
    switch (c.op) {
      case '=':
        return String(v) === String(c.value);
      case '!=':
        return String(v) !== String(c.value);
      case 'LIKE':
        return likeToRegExp(String(c.value), 's').test(String(v));
      case 'ILIKE':
        return likeToRegExp(String(c.value), 'is').test(String(v));
      default: {
        const a = Number(v),
          b = Number(c.value);
        return c.op === '>' ? a > b : c.op === '>=' ? a >= b : c.op === '<' ? a < b : a <= b;
      }
    }
  });
}

export function sortRuns(runs: Run[], orderBy: string[] | undefined): Run[] {
  let sorted = [...runs].sort(
    (a, b) =>
      b.info.startTime - a.info.startTime || (a.info.runId < b.info.runId ? -1 : a.info.runId > b.info.runId ? 1 : 0),
  );
  // like MLflow: stable sorts applied from the last clause to the first
  for (const clause of [...(orderBy ?? [])].reverse()) {
    const [field, dir = 'ASC'] = clause.trim().split(/\s+/);
    const dot = field.indexOf('.');
    const entity = dot > 0 ? ENTITY_ALIASES[field.slice(0, dot).toLowerCase()] : 'attributes';
    if (!entity) throw invalid(`Invalid order_by clause '${clause}'`);
    const key = (dot > 0 ? field.slice(dot + 1) : field).replace(/^[`"]|[`"]$/g, '');
    const sign = dir.toUpperCase() === 'DESC' ? -1 : 1;
    sorted = [...sorted].sort((a, b) => {
      const va = lookup(a, entity, key),
        vb = lookup(b, entity, key);
      if (va === vb) return 0;
      if (va === undefined) return 1;
      if (vb === undefined) return -1;
      return (va < vb ? -1 : 1) * sign;
    });
  }
  return sorted;
}

/** MLflow's page token: base64 of Python's `json.dumps({"offset": n})`. */
export function createPageToken(offset: number): string {
  return Buffer.from(`{"offset": ${offset}}`).toString('base64');
}

export function parsePageToken(token: string | undefined): number {
  if (!token) return 0;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(token) || token.length % 4 !== 0)
    throw invalid('Invalid page token, could not base64-decode');
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  let offset: unknown;
  try {
    offset = (JSON.parse(decoded) as { offset?: unknown }).offset;
  } catch {
    throw invalid(`Invalid page token, decoded value=${decoded}`);
  }
  if (!Number.isSafeInteger(offset) || (offset as number) < 0)
    throw invalid(`Invalid page token, parsed value=${decoded}`);
  return offset as number;
}

/** One page of `items` and the token for the next, as MLflow's SearchUtils.paginate. */
export function paginate<T>(
  items: T[],
  maxResults: number,
  pageToken?: string,
): { items: T[]; nextPageToken?: string } {
  const offset = parsePageToken(pageToken);
  const end = offset + maxResults;
  return { items: items.slice(offset, end), ...(end < items.length ? { nextPageToken: createPageToken(end) } : {}) };
}

type DatasetFilter = NonNullable<SearchLoggedModelsRequest['datasets']>[number];

const onDataset = (m: LoggedModel['metrics'][number], d: { datasetName?: string; datasetDigest?: string }) =>
  (!d.datasetName || m.datasetName === d.datasetName) && (!d.datasetDigest || m.datasetDigest === d.datasetDigest);

function modelAttribute(model: LoggedModel, key: string): string | number | undefined {
  const values: Record<string, string | number | undefined> = {
    name: model.name,
    model_id: model.modelId,
    model_type: model.modelType,
    // MLflow 3.6 compares the enum object, so no status value matches there; the name is what a reader expects
    status: model.status,
    source_run_id: model.sourceRunId,
    creation_timestamp: model.creationTimestamp,
    creation_time: model.creationTimestamp,
    last_updated_timestamp: model.lastUpdatedTimestamp,
    last_updated_time: model.lastUpdatedTimestamp,
  };
  return values[key];
}

/**
 * The logged models a search keeps, as MLflow's `SearchLoggedModelsUtils.filter_logged_models`:
 * metric clauses only look at values measured on `datasets` (when given), and with `datasets` but
 * no metric clause a model must have some metric on one of them.
 */
export function filterLoggedModels(
  models: LoggedModel[],
  filter: string | undefined,
  datasets: DatasetFilter[] | undefined,
): LoggedModel[] {
  const clauses = parseFilter(filter, LOGGED_MODEL_ATTRIBUTES, true);
  const onAny = (m: LoggedModel['metrics'][number]) => !datasets?.length || datasets.some((d) => onDataset(m, d));
  return models.filter((model) => {
    if (datasets?.length && !clauses.some((c) => c.entity === 'metrics') && !model.metrics.some(onAny)) return false;
    return matchesClauses(
      (entity, key) =>
        entity === 'tags'
          ? model.tags[key]
          : entity === 'params'
            ? model.params[key]
            : entity === 'metrics'
              ? model.metrics.find((m) => m.key === key && onAny(m))?.value
              : modelAttribute(model, key),
      clauses,
    );
  });
}

/**
 * Logged models in MLflow's order: each `orderBy` field (a metric's latest value on its dataset,
 * missing values last), then newest first, then by id.
 */
export function sortLoggedModels(
  models: LoggedModel[],
  orderBy: NonNullable<SearchLoggedModelsRequest['orderBy']> | undefined,
): LoggedModel[] {
  const clauses = (orderBy ?? []).map((o) => {
    const field = o.fieldName.trim().replace(/^creation_time$/, 'creation_timestamp');
    if (field.includes('.') && !field.startsWith('metrics.'))
      throw invalid(`Invalid order by field name: ${field.split('.')[0]}, only \`metrics.<name>\` is allowed.`);
    if (!field.includes('.') && !LOGGED_MODEL_ATTRIBUTES.has(field))
      throw invalid(`Invalid order by field name: ${field}.`);
    if (o.datasetDigest && !o.datasetName)
      throw invalid('`dataset_digest` can only be specified if `dataset_name` is also specified.');
    return { ...o, field, ascending: o.ascending ?? true };
  });
  if (!clauses.some((c) => c.field === 'creation_timestamp'))
    clauses.push({ fieldName: 'creation_timestamp', field: 'creation_timestamp', ascending: false });
  if (!clauses.some((c) => c.field === 'model_id'))
    clauses.push({ fieldName: 'model_id', field: 'model_id', ascending: true });
  const value = (model: LoggedModel, c: (typeof clauses)[number]) => {
    if (!c.field.startsWith('metrics.')) return modelAttribute(model, c.field);
    const key = c.field.slice('metrics.'.length);
    const latest = model.metrics
      .filter((m) => m.key === key && onDataset(m, c))
      .sort((a, b) => b.timestamp - a.timestamp)[0];
    return latest?.value;
  };
  return [...models].sort((a, b) => {
    for (const c of clauses) {
      const va = value(a, c),
        vb = value(b, c);
      if (va === vb) continue;
      if (va === undefined) return 1;
      if (vb === undefined) return -1;
      return (va < vb ? -1 : 1) * (c.ascending ? 1 : -1);
    }
    return 0;
  });
}
