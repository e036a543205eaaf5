/**
 * The part of MLflow's search grammar (mlflow/utils/search_utils.py) that sweeps need, evaluated
 * locally by the file store and the fake server:
 *
 *   tags.`mlflow.parentRunId` = 'abc' AND params.lr != '0.1' AND metrics.auroc >= 0.9
 *   attributes.status = 'FINISHED'   (also run_name, run_id, start_time, end_time)
 *
 * Ordering: `attributes.start_time DESC` (MLflow's default: start_time DESC, then run_id ASC) or
 * `metrics.<key> ASC|DESC`, `params.<key>`, `tags.<key>`.
 */
import { MlflowInvalidParameterError } from './errors';
import type { Run } from './types';

interface Clause {
  entity: 'tags' | 'params' | 'metrics' | 'attributes';
  key: string;
  op: '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE';
  value: string | number;
}

const ENTITY_ALIASES: Record<string, Clause['entity']> = {
  tag: 'tags', tags: 'tags', param: 'params', params: 'params', parameter: 'params', parameters: 'params',
  metric: 'metrics', metrics: 'metrics', attribute: 'attributes', attributes: 'attributes', attr: 'attributes', run: 'attributes',
};

const CLAUSE = /^\s*(\w+)\.(`[^`]+`|"[^"]+"|[\w.\-/:]+)\s*(!=|>=|<=|=|>|<|LIKE)\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?[\d.eE+-]+)\s*$/i;

export function parseFilter(filter: string | undefined): Clause[] {
  if (!filter || !filter.trim()) return [];
  return filter.split(/\s+AND\s+/i).map((part) => {
    const m = CLAUSE.exec(part);
    if (!m) throw new MlflowInvalidParameterError(`cannot parse filter clause '${part.trim()}'`, 'INVALID_PARAMETER_VALUE');
    const entity = ENTITY_ALIASES[m[1].toLowerCase()];
    if (!entity) throw new MlflowInvalidParameterError(`unknown entity '${m[1]}' in filter`, 'INVALID_PARAMETER_VALUE');
    const key = m[2].replace(/^[`"]|[`"]$/g, '');
    const raw = m[4];
    const value = /^['"]/.test(raw) ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : Number(raw);
    return { entity, key, op: m[3].toUpperCase() as Clause['op'], value };
  });
}

function attribute(run: Run, key: string): string | number | undefined {
  switch (key) {
    case 'status': return run.info.status;
    case 'run_name': case 'runName': return run.info.runName;
    case 'run_id': case 'runId': return run.info.runId;
    case 'start_time': return run.info.startTime;
    case 'end_time': return run.info.endTime;
    case 'user_id': return run.info.userId;
    default: throw new MlflowInvalidParameterError(`unknown attribute '${key}' in filter`, 'INVALID_PARAMETER_VALUE');
  }
}

function lookup(run: Run, entity: Clause['entity'], key: string): string | number | undefined {
  switch (entity) {
    case 'tags': return run.data.tags[key];
    case 'params': return run.data.params[key];
    case 'metrics': return run.data.metrics[key]?.value;
    case 'attributes': return attribute(run, key);
  }
}

function likeToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`);
}

export function matchesFilter(run: Run, clauses: Clause[]): boolean {
  return clauses.every((c) => {
    const v = lookup(run, c.entity, c.key);
    if (v === undefined) return false;
    switch (c.op) {
      case '=': return String(v) === String(c.value);
      case '!=': return String(v) !== String(c.value);
      case 'LIKE': return likeToRegExp(String(c.value)).test(String(v));
      default: {
        const a = Number(v), b = Number(c.value);
        return c.op === '>' ? a > b : c.op === '>=' ? a >= b : c.op === '<' ? a < b : a <= b;
      }
    }
  });
}

export function sortRuns(runs: Run[], orderBy: string[] | undefined): Run[] {
  const keys = (orderBy?.length ? orderBy : ['attributes.start_time DESC']).map((o) => {
    const [field, dir = 'ASC'] = o.trim().split(/\s+/);
    const dot = field.indexOf('.');
    const entity = dot > 0 ? ENTITY_ALIASES[field.slice(0, dot).toLowerCase()] ?? 'attributes' : 'attributes';
    const key = (dot > 0 ? field.slice(dot + 1) : field).replace(/^[`"]|[`"]$/g, '');
    return { entity, key, sign: dir.toUpperCase() === 'DESC' ? -1 : 1 };
  });
  return [...runs].sort((a, b) => {
    for (const k of keys) {
      const va = lookup(a, k.entity, k.key), vb = lookup(b, k.entity, k.key);
      if (va === vb) continue;
      if (va === undefined) return 1;
      if (vb === undefined) return -1;
      return (va < vb ? -1 : 1) * k.sign;
    }
    return a.info.runId < b.info.runId ? -1 : 1;
  });
}

/** Offset-based page tokens (base64 JSON, as MLflow's file store does). */
export function paginate(runs: Run[], maxResults = 1000, pageToken?: string): { runs: Run[]; nextPageToken?: string } {
  const offset = pageToken ? (JSON.parse(Buffer.from(pageToken, 'base64').toString()) as { offset: number }).offset : 0;
  const page = runs.slice(offset, offset + maxResults);
  const next = offset + maxResults < runs.length ? Buffer.from(JSON.stringify({ offset: offset + maxResults })).toString('base64') : undefined;
  return { runs: page, nextPageToken: next };
}
