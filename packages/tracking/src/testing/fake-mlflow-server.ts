/**
 * An in-process MLflow 3.6 tracking server for fast tests, here and in other packages. It answers
 * the REST endpoints this project uses the way the real server does (checked by
 * `testing/server-contract.ts` against both): the same JSON shapes and error bodies, 404
 * RESOURCE_DOES_NOT_EXIST, 400 INVALID_PARAMETER_VALUE for bad keys and log-batch limits, the
 * file store's 500 INTERNAL_ERROR for a changed param through log-batch (400 through
 * log-parameter), NaN/±Infinity as strings, metric history that returns nothing without
 * `max_results`, Python-style page tokens, the artifact proxy (a missing file is a 500 there, as in
 * MLflow), and a 400 for a POST without `content-type: application/json`.
 *
 * Runs are kept by a `FileTrackingStore` in a temp folder (`<root>/mlruns`, artifacts in
 * `<root>/mlartifacts`), so a fake started again on the same root and port finds them, as a
 * restarted server would.
 *
 * Faults for robustness tests apply to the next matching API requests (`endpoint` narrows them,
 * e.g. 'runs/log-batch'): `failNext` answers an error, `dropNextConnections` closes the socket
 * before handling, `loseNextAnswers` handles the request and then closes the socket (the client
 * never hears it worked), `delayNext` waits first, `hangNext` never answers (a server that accepts
 * and stays silent). `requests` logs every API request with its body size and status (0 when no
 * answer was sent).
 *
 * `auth` makes it behave like MLflow's basic-auth app: 401 without valid credentials (Basic for
 * `users`, Bearer for `tokens`), 403 when a `readOnly` user writes.
 *
 * @example
 * ```ts
 * const fake = await startFakeMlflowServer();
 * const store = new RestTrackingStore({ uri: fake.url });
 * fake.faults.failNext(1, 503);                         // the next request answers 503 once
 * fake.faults.loseNextAnswers(1, { endpoint: 'runs/log-batch' });
 * await fake.close();
 * ```
 */
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { z } from 'zod';
import type { DatasetInputRequest, Experiment, KeyValue, Metric, RunStatus } from '../entities';
import { RUN_STATUSES } from '../entities';
import { errorToResponse, MlflowInvalidParameterError, MlflowResourceNotFoundError } from '../errors';
import { FileTrackingStore } from '../file-store';
import { decodeMetricValue } from '../metric-value';
import { paginate } from '../search-filter';
import { searchAllRuns } from '../tracking-store';
import { LIMITS } from '../validation';
import { LOGGED_MODEL_STATUSES, type LoggedModelStatus } from '../entities';
import { artifactToWire, experimentToWire, loggedModelToWire, metricToWire, runToWire } from '../wire-format';
import { FakeRegistry } from './fake-registry';

export const FakeMlflowServerOptionsSchema = z.strictObject({
  /** Default: a free port. Pass the old one to restart a stopped fake where clients expect it. */
  port: z.number().int().min(0).max(65_535).optional(),
  /** Default: a new temp folder. */
  root: z.string().optional(),
  /**
   * Create experiments as MLflow's file-store server does: check the name, then write, without a
   * lock, so two clients racing for one name can both create it (default true, as the real server).
   */
  mlflowExperimentRace: z.boolean().default(true),
  /** Require credentials as MLflow's basic-auth app does. */
  auth: z
    .strictObject({
      /** user → password, for HTTP Basic. */
      users: z.record(z.string(), z.string()).default({}),
      /** Users with READ only: their writes are 403. */
      readOnly: z.array(z.string()).default([]),
      /** Accepted bearer tokens. */
      tokens: z.array(z.string()).default([]),
    })
    .optional(),
});
export type FakeMlflowServerOptions = z.input<typeof FakeMlflowServerOptionsSchema>;

export interface FakeRequestRecord {
  method: string;
  /** The path without the query, e.g. `/api/2.0/mlflow/runs/log-batch`. */
  path: string;
  /** Request body size in bytes. */
  bytes: number;
  /** The HTTP status sent; 0 when the connection was dropped without an answer. */
  status: number;
}

export interface FaultOptions {
  /** Only requests whose path ends with this (e.g. 'runs/log-batch'); default any API request. */
  endpoint?: string;
}

export interface FakeMlflowServer {
  url: string;
  port: number;
  root: string;
  store: FileTrackingStore;
  requests: FakeRequestRecord[];
  faults: {
    /** The next `count` requests answer `status` with an MLflow error body (and `Retry-After` if given). */
    failNext(
      count: number,
      status?: number,
      options?: FaultOptions & { errorCode?: string; retryAfterS?: number },
    ): void;
    /** The next `count` requests get their connection closed before they are handled. */
    dropNextConnections(count: number, options?: FaultOptions): void;
    /** The next `count` requests are handled, then their connection is closed without the answer. */
    loseNextAnswers(count: number, options?: FaultOptions): void;
    /** The next `count` requests wait `ms` before being handled. */
    delayNext(count: number, ms: number, options?: FaultOptions): void;
    /** The next `count` requests are never answered (the connection stays open until `close`). */
    hangNext(count: number, options?: FaultOptions): void;
    /** Forgets every pending fault. */
    clear(): void;
  };
  close(): Promise<void>;
}

type Fault =
  | { kind: 'fail'; status: number; errorCode: string; retryAfterS?: number; endpoint?: string }
  | { kind: 'drop'; endpoint?: string }
  | { kind: 'lose'; endpoint?: string }
  | { kind: 'delay'; ms: number; endpoint?: string }
  | { kind: 'hang'; endpoint?: string };

const API = /^\/(?:ajax-)?api\/2\.0\//;
const CODE_FOR_STATUS: Record<number, string> = {
  429: 'REQUEST_LIMIT_EXCEEDED',
  500: 'INTERNAL_ERROR',
  502: 'BAD_GATEWAY',
  503: 'TEMPORARILY_UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};
const FLASK_404 =
  '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n';
const FLASK_500 =
  '<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.</p>\n';

class HtmlError extends Error {
  constructor(
    readonly status: number,
    readonly html: string,
  ) {
    super(`HTTP ${status}`);
  }
}

function invalid(message: string): never {
  throw new MlflowInvalidParameterError(message, 'INVALID_PARAMETER_VALUE');
}

const missing = (path: string) =>
  invalid(
    `Missing value for required parameter '${path}'. See the API docs for more information about request parameters.`,
  );

/** MLflow's experiment order: `creation_time DESC, experiment_id ASC` unless `order_by` says otherwise. */
function sortExperiments(list: Experiment[], orderBy: string[] | undefined): Experiment[] {
  const clauses = (orderBy?.length ? orderBy : ['creation_time DESC', 'experiment_id ASC']).map((c) => {
    const [field, dir = 'ASC'] = c.trim().split(/\s+/);
    const key = field.replace(/^attributes?\./, '');
    const value = (e: Experiment): string | number =>
      key === 'name'
        ? e.name
        : key === 'experiment_id'
          ? e.experimentId
          : key === 'last_update_time'
            ? (e.lastUpdateTime ?? 0)
            : key === 'creation_time'
              ? (e.creationTime ?? 0)
              : invalid(`Invalid order_by entity: ${field}`);
    return { value, sign: dir.toUpperCase() === 'DESC' ? -1 : 1 };
  });
  return [...list].sort((a, b) => {
    for (const { value, sign } of clauses) {
      const va = value(a),
        vb = value(b);
      if (va !== vb) return (va < vb ? -1 : 1) * sign;
    }
    return 0;
  });
}

/** The experiment filters sweeps use: `name = '…'`, `name != '…'`, `name LIKE '…'` / ILIKE, or none. */
function experimentFilter(filter: string): (e: Experiment) => boolean {
  if (!filter.trim()) return () => true;
  const m = /^\s*(?:attributes?\.)?name\s*(=|!=|LIKE|ILIKE)\s*('(?:[^']*)'|"(?:[^"]*)")\s*$/i.exec(filter);
  if (!m) invalid(`Invalid filter '${filter}'`);
  const value = m[2].slice(1, -1);
  const op = m[1].toUpperCase();
  if (op === '=') return (e) => e.name === value;
  if (op === '!=') return (e) => e.name !== value;
  const re = new RegExp(
    `^${value
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      .replace(/%/g, '.*')
      .replace(/_/g, '.')}$`,
    op === 'ILIKE' ? 'is' : 's',
  );
  return (e) => re.test(e.name);
}

/** POSTs that only read, which a READ user may send (every other POST, PUT, PATCH and DELETE writes). */
const READS = /(?:experiments\/search|runs\/search|logged-models\/search)$/;

/** What MLflow's basic-auth app answers a request without valid credentials or permission, or undefined to let it through. */
function authAnswer(
  req: IncomingMessage,
  auth: NonNullable<z.output<typeof FakeMlflowServerOptionsSchema>['auth']>,
): { status: number; headers: Record<string, string>; body: string } | undefined {
  const header = req.headers.authorization ?? '';
  let user: string | undefined;
  if (header.startsWith('Basic ')) {
    const [name, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    if (auth.users[name] !== undefined && auth.users[name] === rest.join(':')) user = name;
  } else if (header.startsWith('Bearer ') && auth.tokens.includes(header.slice(7))) user = 'token';
  if (!user)
    return {
      status: 401,
      headers: { 'www-authenticate': 'Basic realm="mlflow"', 'content-type': 'text/plain' },
      body: 'You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.',
    };
  const path = (req.url ?? '').split('?')[0];
  const write = req.method !== 'GET' && req.method !== 'HEAD' && !(req.method === 'POST' && READS.test(path));
  if (write && auth.readOnly.includes(user))
    return { status: 403, headers: { 'content-type': 'text/plain' }, body: 'Permission denied' };
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startFakeMlflowServer(options: FakeMlflowServerOptions = {}): Promise<FakeMlflowServer> {
  const opts = FakeMlflowServerOptionsSchema.parse(options);
  const root = opts.root ?? (await mkdtemp(join(tmpdir(), 'fake-mlflow-')));
  const store = new FileTrackingStore(join(root, 'mlruns'), { artifactRoot: 'mlflow-artifacts:', defaultUserId: '' });
  const artifacts = resolve(root, 'mlartifacts');
  await mkdir(artifacts, { recursive: true });
  const registry = await FakeRegistry.open(root, store);
  const requests: FakeRequestRecord[] = [];
  let faults: Fault[] = [];

  const takeFault = (path: string, kinds: Fault['kind'][]): Fault | undefined => {
    const i = faults.findIndex((f) => kinds.includes(f.kind) && (!f.endpoint || path.endsWith(f.endpoint)));
    return i < 0 ? undefined : faults.splice(i, 1)[0];
  };

  const artifactFile = (relative: string) => {
    const parts = relative.split('/').filter(Boolean);
    if (parts.some((p) => p === '..' || p === '.')) invalid('Invalid path');
    const full = resolve(artifacts, ...parts);
    if (full !== artifacts && !full.startsWith(artifacts + sep)) invalid('Invalid path');
    return full;
  };

  const listDir = async (dir: string, listedPath: string) => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const files = [];
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const size = e.isDirectory() ? undefined : (await stat(join(dir, e.name))).size;
      files.push(
        artifactToWire(
          e.isDirectory() ? { path: e.name, isDir: true } : { path: e.name, isDir: false, fileSize: size },
          listedPath,
        ),
      );
    }
    return files;
  };

  /** The proxy path of a run's artifact root (all runs here have mlflow-artifacts URIs). */
  const runArtifactRoot = async (runId: string) =>
    new URL((await store.getRun(runId)).info.artifactUri).pathname.replace(/^\/+/, '');

  const missingArtifact = (relative: string, full: string) => {
    throw Object.assign(
      new Error(
        `The following failures occurred while downloading one or more artifacts from ${artifacts}:\n##### File ${relative} #####\n[Errno 2] No such file or directory: '${full}'`,
      ),
      { mlflow500: true },
    );
  };

  interface Answer {
    status: number;
    json?: unknown;
    raw?: Buffer;
    html?: string;
  }

  /** `logged-models/<id>` and its sub-resources. */
  async function loggedModelRoute(
    method: string,
    modelId: string,
    sub: string,
    json: () => Record<string, unknown>,
    q: (k: string) => string | undefined,
  ): Promise<unknown> {
    const kv = (list: unknown) =>
      Object.fromEntries(((list as KeyValue[] | undefined) ?? []).map((t) => [t.key, t.value ?? '']));
    switch (`${method} ${sub}`) {
      case 'GET ':
        return { model: loggedModelToWire(await store.getLoggedModel(modelId)) };
      case 'PATCH ': {
        const b = json();
        if (b.status === undefined || b.status === null) missing('status');
        // MLflow takes the enum's name or its number
        const byNumber: Record<number, LoggedModelStatus> = { 2: 'READY', 3: 'UPLOAD_FAILED' };
        const status =
          typeof b.status === 'number'
            ? byNumber[b.status]
            : LOGGED_MODEL_STATUSES.find((s) => `LOGGED_MODEL_${s}` === b.status);
        if (status === undefined || status === 'PENDING')
          invalid(
            `Invalid value ${JSON.stringify(b.status)} for parameter 'status' supplied: Hint: Value was of type '${typeof b.status === 'number' ? 'int' : 'str'}'. See the API docs for more information about request parameters.`,
          );
        return {
          model: loggedModelToWire(await store.finalizeLoggedModel(modelId, status as 'READY' | 'UPLOAD_FAILED')),
        };
      }
      case 'PATCH /tags':
        await store.setLoggedModelTags(modelId, kv(json().tags));
        return {};
      case 'POST /params':
        await store.logLoggedModelParams(modelId, kv(json().params));
        return {};
      case 'GET /artifacts/directories': {
        const model = await store.getLoggedModel(modelId);
        const root = new URL(model.artifactUri).pathname.replace(/^\/+/, '');
        const rel = (q('artifact_directory_path') ?? '').replace(/^\/+|\/+$/g, '');
        const files = await listDir(artifactFile(rel ? `${root}/${rel}` : root), rel);
        return { root_uri: model.artifactUri, ...(files.length ? { files } : {}) };
      }
      default:
        throw new HtmlError(405, FLASK_404);
    }
  }

  async function route(req: IncomingMessage, url: URL, path: string, body: Buffer): Promise<Answer> {
    const method = req.method ?? 'GET';
    const q = (k: string) => url.searchParams.get(k) ?? undefined;
    const json = (): Record<string, unknown> => {
      if (!/^application\/json/i.test(req.headers['content-type'] ?? ''))
        invalid("Bad Request. Content-Type must be one of ['application/json'].");
      try {
        return body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        throw new HtmlError(500, FLASK_500);
      }
    };
    const ok = (value: unknown = {}): Answer => ({ status: 200, json: value });

    if (path === '/health') return { status: 200, raw: Buffer.from('OK') };
    if (method === 'GET' && path === '/get-artifact') {
      const runId = q('run_id') ?? q('run_uuid') ?? missing('run_id');
      const rel = q('path') ?? missing('path');
      try {
        return { status: 200, raw: await readFile(artifactFile(`${await runArtifactRoot(runId)}/${rel}`)) };
      } catch (error) {
        if (error instanceof MlflowResourceNotFoundError || error instanceof MlflowInvalidParameterError) throw error;
        throw new HtmlError(500, FLASK_500);
      }
    }
    const apiPath = path.replace(API, '/api/2.0/');
    if (
      apiPath === '/api/2.0/mlflow-artifacts/artifacts' ||
      apiPath.startsWith('/api/2.0/mlflow-artifacts/artifacts/')
    ) {
      // the raw path: WHATWG URLs resolve '%2E%2E' segments, which the server must see and refuse
      const rawPath = (req.url ?? '').split('?')[0].replace(API, '/api/2.0/');
      const rel = rawPath
        .slice('/api/2.0/mlflow-artifacts/artifacts'.length)
        .replace(/^\//, '')
        .split('/')
        .map(decodeURIComponent)
        .join('/');
      if (method === 'PUT' && rel) {
        const file = artifactFile(rel);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, body);
        return ok();
      }
      if (method === 'GET' && rel) {
        const file = artifactFile(rel);
        return { status: 200, raw: await readFile(file).catch(() => missingArtifact(rel, file)) };
      }
      if (method === 'GET') {
        const listed = q('path') ?? '';
        const files = await listDir(artifactFile(listed), '');
        return ok(files.length ? { files } : {});
      }
      throw new HtmlError(405, FLASK_404);
    }
    const endpoint = apiPath.replace('/api/2.0/mlflow/', '');
    const model = /^logged-models\/([^/]+)(\/tags|\/params|\/artifacts\/directories)?$/.exec(endpoint);
    if (model && model[1] !== 'search')
      return ok(await loggedModelRoute(method, decodeURIComponent(model[1]), model[2] ?? '', json, q));
    const registered = await registry.route(method, endpoint, json, q);
    if (registered !== undefined) return ok(registered);
    switch (`${method} ${endpoint}`) {
      case 'GET experiments/get-by-name': {
        const name = q('experiment_name') ?? missing('experiment_name');
        if (name.includes("'")) invalid(`Invalid clause(s) in filter string: name = '${name}'`);
        // MLflow: the first of search_experiments' default order, newest first, for a name it created twice
        const e = sortExperiments(await store.getExperimentsByName(name), undefined)[0];
        if (!e)
          throw new MlflowResourceNotFoundError(
            `Could not find experiment with name '${name}'`,
            'RESOURCE_DOES_NOT_EXIST',
          );
        return ok({ experiment: experimentToWire(e) });
      }
      case 'POST experiments/search': {
        const b = json();
        const maxResults = b.max_results === undefined ? 1000 : Number(b.max_results);
        if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > LIMITS.searchMaxResults)
          invalid(`Invalid value ${b.max_results} for parameter 'max_results' supplied. It must be a positive integer`);
        const view = String(b.view_type ?? 'ACTIVE_ONLY');
        const matches = experimentFilter((b.filter as string) || '');
        const all = (await store.listExperiments()).filter(
          (e) => (view === 'ALL' || (view === 'DELETED_ONLY') === (e.lifecycleStage === 'deleted')) && matches(e),
        );
        const page = paginate(
          sortExperiments(all, b.order_by as string[] | undefined),
          maxResults,
          (b.page_token as string) || undefined,
        );
        return ok({
          ...(page.items.length ? { experiments: page.items.map(experimentToWire) } : {}),
          ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
        });
      }
      case 'GET experiments/get':
        return ok({
          experiment: experimentToWire(await store.getExperiment(q('experiment_id') ?? missing('experiment_id'))),
        });
      case 'POST experiments/create': {
        const b = json();
        if (!b.name) missing('name');
        if (String(b.name).includes("'")) invalid(`Invalid clause(s) in filter string: name = '${String(b.name)}'`);
        const tags = Object.fromEntries(((b.tags as KeyValue[]) ?? []).map((t) => [t.key, t.value ?? '']));
        return ok({
          experiment_id: await store.createExperiment(String(b.name), tags, { mlflowRace: opts.mlflowExperimentRace }),
        });
      }
      case 'POST runs/create': {
        const b = json();
        if (!b.experiment_id) invalid("Invalid experiment ID: ''");
        const tags = Object.fromEntries(((b.tags as KeyValue[]) ?? []).map((t) => [t.key, t.value ?? '']));
        const run = await store.createRun({
          experimentId: String(b.experiment_id),
          ...(b.run_name ? { runName: String(b.run_name) } : {}),
          startTime: Number(b.start_time ?? 0),
          userId: String(b.user_id ?? ''),
          tags,
        });
        return ok({ run: runToWire(run) });
      }
      case 'POST runs/update': {
        const b = json();
        const runId = String(b.run_id ?? b.run_uuid ?? missing('run_id'));
        const current = await store.getRun(runId);
        const status = (RUN_STATUSES as readonly string[]).includes(String(b.status))
          ? (b.status as RunStatus)
          : current.info.status;
        await store.updateRun({
          runId,
          status,
          ...(b.end_time !== undefined && b.end_time !== null ? { endTime: Number(b.end_time) } : {}),
          ...(b.run_name ? { runName: String(b.run_name) } : {}),
        });
        return ok({ run_info: runToWire(await store.getRun(runId)).info });
      }
      case 'GET runs/get':
        return ok({ run: runToWire(await store.getRun(q('run_id') ?? q('run_uuid') ?? missing('run_id'))) });
      case 'POST runs/search': {
        const b = json();
        const maxResults = b.max_results === undefined ? 1000 : Number(b.max_results);
        if (!Number.isInteger(maxResults) || maxResults > LIMITS.searchMaxResults)
          invalid(
            `Invalid value ${b.max_results} for parameter 'max_results' supplied:  Hint: Value was of type 'int'. See the API docs for more information about request parameters.`,
          );
        const all = await searchAllRuns(store, {
          experimentIds: ((b.experiment_ids as string[]) ?? []).map(String),
          filter: (b.filter as string) || undefined,
          orderBy: (b.order_by as string[]) ?? [],
          maxResults: LIMITS.searchMaxResults,
        });
        const page = paginate(all, maxResults, (b.page_token as string) || undefined);
        return ok({
          ...(page.items.length ? { runs: page.items.map(runToWire) } : {}),
          ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
        });
      }
      case 'POST runs/log-batch': {
        const b = json();
        const runId = String(b.run_id ?? missing('run_id'));
        const metrics = (b.metrics as Record<string, unknown>[]) ?? [];
        const params = (b.params as KeyValue[]) ?? [];
        const tags = (b.tags as KeyValue[]) ?? [];
        metrics.forEach((m, i) =>
          ['key', 'value', 'timestamp'].forEach(
            (f) => (m[f] === undefined || m[f] === null || m[f] === '') && missing(`metrics[${i}].${f}`),
          ),
        );
        params.forEach((p, i) => !p.key && missing(`params[${i}].key`));
        tags.forEach((t, i) => !t.key && missing(`tags[${i}].key`));
        const limit = (what: string, max: number, n: number) =>
          n > max &&
          invalid(
            `A batch logging request can contain at most ${max} ${what}. Got ${n} ${what}. Please split up ${what} across multiple requests and try again.`,
          );
        limit('metrics', LIMITS.metricsPerBatch, metrics.length);
        limit('params', LIMITS.paramsPerBatch, params.length);
        limit('tags', LIMITS.tagsPerBatch, tags.length);
        limit('metrics, params, and tags', LIMITS.entitiesPerBatch, metrics.length + params.length + tags.length);
        const keys = params.map((p) => p.key);
        const dupes = keys.filter((k, i) => keys.indexOf(k) !== i);
        if (dupes.length)
          invalid(
            `Duplicate parameter keys have been submitted: [${dupes.map((k) => `'${k}'`).join(', ')}]. Please ensure the request contains only one param value per param key.`,
          );
        const decoded: Metric[] = metrics.map((m, i) => {
          try {
            return {
              key: String(m.key),
              value: decodeMetricValue(m.value),
              timestamp: Math.trunc(Number(m.timestamp)),
              step: Math.trunc(Number(m.step ?? 0)),
              ...(m.model_id ? { modelId: String(m.model_id) } : {}),
              ...(m.dataset_name && m.dataset_digest
                ? { datasetName: String(m.dataset_name), datasetDigest: String(m.dataset_digest) }
                : {}),
            };
          } catch {
            return invalid(
              `Invalid value ${JSON.stringify(m.value)} for parameter 'metrics[${i}].value' supplied: Please specify value as a valid double (64-bit floating point)`,
            );
          }
        });
        await store.logBatch(runId, {
          metrics: decoded,
          params: params.map((p) => ({ key: p.key, value: p.value ?? '' })),
          tags: tags.map((t) => ({ key: t.key, value: t.value ?? '' })),
        });
        return ok();
      }
      case 'POST runs/log-inputs': {
        const b = json();
        const runId = String(b.run_id ?? missing('run_id'));
        type WireInput = {
          tags?: KeyValue[];
          dataset?: {
            name?: string;
            digest?: string;
            source_type?: string;
            source?: string;
            schema?: string;
            profile?: string;
          };
        };
        const datasets: DatasetInputRequest[] = ((b.datasets as WireInput[]) ?? []).map((d, i) => {
          const ds = d.dataset ?? missing(`datasets[${i}].dataset`);
          return {
            dataset: {
              name: ds.name ?? missing(`datasets[${i}].dataset.name`),
              digest: ds.digest ?? missing(`datasets[${i}].dataset.digest`),
              sourceType: ds.source_type ?? missing(`datasets[${i}].dataset.source_type`),
              source: ds.source ?? missing(`datasets[${i}].dataset.source`),
              ...(ds.schema ? { schema: ds.schema } : {}),
              ...(ds.profile ? { profile: ds.profile } : {}),
            },
            tags: Object.fromEntries((d.tags ?? []).map((t) => [t.key, t.value ?? ''])),
          };
        });
        await store.logInputs(runId, datasets);
        return ok();
      }
      case 'POST runs/outputs': {
        const b = json();
        const runId = String(b.run_id ?? missing('run_id'));
        const models = (b.models as { model_id?: string; step?: number }[] | undefined) ?? missing('models');
        await store.logOutputs(
          runId,
          models.map((o, i) => ({
            modelId: o.model_id ?? missing(`models[${i}].model_id`),
            step: Number(o.step ?? 0),
          })),
        );
        return ok();
      }
      case 'POST logged-models': {
        const b = json();
        const kv = (list: unknown) =>
          Object.fromEntries(((list as KeyValue[] | undefined) ?? []).map((t) => [t.key, t.value ?? '']));
        const created = await store.createLoggedModel({
          experimentId: String(b.experiment_id ?? missing('experiment_id')),
          ...(b.name ? { name: String(b.name) } : {}),
          ...(b.model_type ? { modelType: String(b.model_type) } : {}),
          ...(b.source_run_id ? { sourceRunId: String(b.source_run_id) } : {}),
          params: kv(b.params),
          tags: kv(b.tags),
        });
        return ok({ model: loggedModelToWire(created) });
      }
      case 'POST logged-models/search': {
        const b = json();
        const experimentIds = (b.experiment_ids as string[] | undefined) ?? missing('experiment_ids');
        type WireDataset = { dataset_name?: string; dataset_digest?: string };
        type WireOrder = { field_name?: string; ascending?: boolean; dataset_name?: string; dataset_digest?: string };
        const found = await store.searchLoggedModels({
          experimentIds: experimentIds.map(String),
          ...(b.filter ? { filter: String(b.filter) } : {}),
          ...(b.datasets
            ? {
                datasets: (b.datasets as WireDataset[]).map((d) => ({
                  datasetName: d.dataset_name ?? invalid('`dataset_name` in the `datasets` clause must be specified.'),
                  ...(d.dataset_digest ? { datasetDigest: d.dataset_digest } : {}),
                })),
              }
            : {}),
          ...(b.max_results ? { maxResults: Number(b.max_results) } : {}),
          ...(b.order_by
            ? {
                orderBy: (b.order_by as WireOrder[]).map((o) => ({
                  fieldName: o.field_name ?? invalid('`field_name` in the `order_by` clause must be specified.'),
                  ascending: o.ascending ?? true,
                  ...(o.dataset_name ? { datasetName: o.dataset_name } : {}),
                  ...(o.dataset_digest ? { datasetDigest: o.dataset_digest } : {}),
                })),
              }
            : {}),
          ...(b.page_token ? { pageToken: String(b.page_token) } : {}),
        });
        return ok({
          ...(found.models.length ? { models: found.models.map(loggedModelToWire) } : {}),
          ...(found.nextPageToken ? { next_page_token: found.nextPageToken } : {}),
        });
      }
      case 'POST runs/log-metric': {
        const b = json();
        const runId = String(b.run_id ?? b.run_uuid ?? missing('run_id'));
        for (const f of ['key', 'value', 'timestamp'])
          if (b[f] === undefined || b[f] === null || b[f] === '') missing(f);
        await store.logMetric(
          runId,
          String(b.key),
          decodeMetricValue(b.value),
          Math.trunc(Number(b.step ?? 0)),
          Math.trunc(Number(b.timestamp)),
        );
        return ok();
      }
      case 'POST runs/log-parameter': {
        const b = json();
        const runId = String(b.run_id ?? b.run_uuid ?? missing('run_id'));
        await store.logParam(runId, String(b.key ?? missing('key')), String(b.value ?? ''));
        return ok();
      }
      case 'POST runs/set-tag': {
        const b = json();
        const runId = String(b.run_id ?? b.run_uuid ?? missing('run_id'));
        await store.setTag(runId, String(b.key ?? missing('key')), String(b.value ?? ''));
        return ok();
      }
      case 'GET metrics/get-history': {
        const runId = q('run_id') ?? q('run_uuid') ?? missing('run_id');
        const key = q('metric_key') ?? missing('metric_key');
        const history = await store.getMetricHistory(runId, key);
        // MLflow 3.6: without max_results the page size is the proto default, 0
        const page = paginate(history, Number(q('max_results') ?? 0), q('page_token'));
        return ok({
          ...(page.items.length ? { metrics: page.items.map((m) => metricToWire(m, runId)) } : {}),
          ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
        });
      }
      case 'GET artifacts/list': {
        const runId = q('run_id') ?? q('run_uuid') ?? missing('run_id');
        const rel = (q('path') ?? '').replace(/^\/+|\/+$/g, '');
        const rootPath = await runArtifactRoot(runId);
        const files = await listDir(artifactFile(rel ? `${rootPath}/${rel}` : rootPath), rel);
        return ok({ root_uri: (await store.getRun(runId)).info.artifactUri, ...(files.length ? { files } : {}) });
      }
      default:
        throw new HtmlError(404, FLASK_404);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const body = await readBody(req);
    const record: FakeRequestRecord = { method: req.method ?? '', path: url.pathname, bytes: body.length, status: 0 };
    const isApi = API.test(url.pathname) || url.pathname === '/get-artifact';
    if (isApi) requests.push(record);
    if (isApi && opts.auth) {
      const denied = authAnswer(req, opts.auth);
      if (denied) {
        res.writeHead(denied.status, denied.headers);
        res.end(denied.body);
        record.status = denied.status;
        return denied.status;
      }
    }
    const hang = isApi ? takeFault(url.pathname, ['hang']) : undefined;
    if (hang) return new Promise<number>(() => undefined); // never answered; close() cuts the socket
    const delay = isApi ? takeFault(url.pathname, ['delay']) : undefined;
    if (delay?.kind === 'delay') await new Promise((r) => setTimeout(r, delay.ms));
    const fault = isApi ? takeFault(url.pathname, ['fail', 'drop', 'lose']) : undefined;
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return 0;
    }
    let answer: Answer;
    if (fault?.kind === 'fail') {
      answer = {
        status: fault.status,
        json: { error_code: fault.errorCode, message: `injected failure (${fault.status})` },
      };
      if (fault.retryAfterS !== undefined) res.setHeader('retry-after', String(fault.retryAfterS));
    } else {
      try {
        answer = await route(req, url, url.pathname, body);
      } catch (error) {
        if (error instanceof HtmlError) answer = { status: error.status, html: error.html };
        else if ((error as { mlflow500?: boolean }).mlflow500)
          answer = { status: 500, json: { error_code: 'INTERNAL_ERROR', message: (error as Error).message } };
        else {
          const { status, body: errorBody } = errorToResponse(error, url.pathname);
          answer = { status, json: errorBody };
        }
      }
    }
    if (fault?.kind === 'lose') {
      req.socket.destroy();
      return 0;
    }
    const payload = answer.raw ?? Buffer.from(answer.html ?? JSON.stringify(answer.json));
    res.writeHead(answer.status, {
      'content-type': answer.raw
        ? 'application/octet-stream'
        : answer.html
          ? 'text/html; charset=utf-8'
          : 'application/json',
      'content-length': payload.length,
    });
    res.end(payload);
    record.status = answer.status;
    return answer.status;
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  const push = (count: number, fault: Fault) => {
    for (let i = 0; i < count; i++) faults.push({ ...fault });
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    root,
    store,
    requests,
    faults: {
      failNext: (count, status = 503, o = {}) =>
        push(count, {
          kind: 'fail',
          status,
          errorCode: o.errorCode ?? CODE_FOR_STATUS[status] ?? 'INTERNAL_ERROR',
          retryAfterS: o.retryAfterS,
          endpoint: o.endpoint,
        }),
      dropNextConnections: (count, o = {}) => push(count, { kind: 'drop', endpoint: o.endpoint }),
      loseNextAnswers: (count, o = {}) => push(count, { kind: 'lose', endpoint: o.endpoint }),
      delayNext: (count, ms, o = {}) => push(count, { kind: 'delay', ms, endpoint: o.endpoint }),
      hangNext: (count, o = {}) => push(count, { kind: 'hang', endpoint: o.endpoint }),
      clear: () => {
        faults = [];
      },
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
