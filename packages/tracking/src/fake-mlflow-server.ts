/**
 * An in-process MLflow tracking server for fast tests: the REST endpoints this project uses, with
 * MLflow 3.6's answers — error bodies and codes, log-batch limits, the file store's param-conflict
 * 500, NaN/Infinity as strings, history that needs `max_results`, the artifact proxy — backed by
 * our `FileTrackingStore` in a temp folder. Faults can be injected: failing responses, dropped
 * connections, delays. The contract tests run the same suite against it and the real server;
 * where they disagree the real server wins and this file is fixed.
 *
 * @example
 * ```ts
 * const fake = await startFakeMlflowServer();
 * const store = new RestTrackingStore({ uri: fake.url });
 * fake.faults.failNext(1, 503);      // the next request answers 503 once
 * await fake.close();
 * ```
 */
import { mkdtemp, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { errorToResponse, MlflowInvalidParameterError, MlflowResourceNotFoundError } from './errors';
import { FileTrackingStore } from './file-store';
import { decodeMetricValue, encodeMetricValue } from './rest-store';
import type { KeyValue, Metric, Run } from './types';
import { LIMITS } from './validation';

export interface FakeRequestRecord {
  method: string;
  path: string;
  status: number;
}

export interface FakeMlflowServer {
  url: string;
  port: number;
  store: FileTrackingStore;
  requests: FakeRequestRecord[];
  faults: {
    /** The next `count` API requests answer `status` with an MLflow error body. */
    failNext(count: number, status?: number, errorCode?: string): void;
    /** The next `count` API requests get their connection destroyed without an answer. */
    dropNextConnections(count: number): void;
    /** The next `count` API requests wait `ms` before being handled. */
    delayNext(count: number, ms: number): void;
    /** The next `count` API requests are applied, then their connection is destroyed: the client never hears. */
    loseNextAnswers(count: number): void;
  };
  close(): Promise<void>;
}

function runToWire(run: Run) {
  const i = run.info;
  return {
    info: {
      run_id: i.runId, run_uuid: i.runId, run_name: i.runName, experiment_id: i.experimentId, user_id: i.userId,
      status: i.status, start_time: i.startTime, ...(i.endTime !== undefined ? { end_time: i.endTime } : {}),
      artifact_uri: i.artifactUri, lifecycle_stage: i.lifecycleStage,
    },
    data: {
      metrics: Object.values(run.data.metrics).map((m) => ({ key: m.key, value: encodeMetricValue(m.value), timestamp: m.timestamp, step: m.step })),
      params: Object.entries(run.data.params).map(([key, value]) => ({ key, value })),
      tags: Object.entries(run.data.tags).map(([key, value]) => ({ key, value })),
    },
    inputs: {},
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function invalid(message: string): never {
  throw new MlflowInvalidParameterError(message, 'INVALID_PARAMETER_VALUE');
}

export async function startFakeMlflowServer(options: { port?: number; root?: string } = {}): Promise<FakeMlflowServer> {
  const root = options.root ?? (await mkdtemp(join(tmpdir(), 'fake-mlflow-')));
  const store = new FileTrackingStore(join(root, 'mlruns'), { artifactRoot: 'mlflow-artifacts:' });
  const artifacts = join(root, 'mlartifacts');
  const requests: FakeRequestRecord[] = [];
  const pending = { fail: [] as { status: number; code: string }[], drop: 0, lose: 0, delay: [] as number[] };

  const artifactFile = (path: string) => {
    const full = resolve(artifacts, decodeURIComponent(path));
    if (!full.startsWith(resolve(artifacts) + sep)) invalid(`invalid artifact path '${path}'`);
    return full;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/^\/ajax-api\//, '/api/');
    const send = (status: number, body: unknown, raw = false) => {
      if (pending.lose > 0 && path.startsWith('/api/')) {
        pending.lose--;
        req.socket.destroy();
        return 0;
      }
      res.writeHead(status, { 'content-type': raw ? 'application/octet-stream' : 'application/json' });
      res.end(raw ? (body as Buffer) : JSON.stringify(body));
      return status;
    };
    if (path === '/health') {
      res.writeHead(200);
      res.end('OK');
      return 200;
    }
    const body = await readBody(req);
    const json = () => (body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {});
    const q = (k: string) => url.searchParams.get(k) ?? undefined;
    if (path.startsWith('/api/2.0/mlflow-artifacts/artifacts')) {
      const rest = path.slice('/api/2.0/mlflow-artifacts/artifacts'.length).replace(/^\//, '');
      if (req.method === 'PUT') {
        const file = artifactFile(rest);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, body);
        return send(200, {});
      }
      if (req.method === 'GET' && rest) {
        try {
          return send(200, await readFile(artifactFile(rest)), true);
        } catch {
          throw new MlflowResourceNotFoundError(`File ${rest} not found`, 'RESOURCE_DOES_NOT_EXIST');
        }
      }
      const dir = artifactFile(q('path') ?? '');
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      const files = [];
      for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        files.push(e.isDirectory() ? { path: e.name, is_dir: true } : { path: e.name, is_dir: false, file_size: (await stat(join(dir, e.name))).size });
      }
      return send(200, files.length ? { files } : {});
    }
    const endpoint = path.replace('/api/2.0/mlflow/', '');
    switch (`${req.method} ${endpoint}`) {
      case 'GET experiments/get-by-name': {
        const name = q('experiment_name') ?? invalid("Missing value for required parameter 'experiment_name'.");
        const e = await store.getExperimentByName(name);
        if (!e) throw new MlflowResourceNotFoundError(`Could not find experiment with name '${name}'`, 'RESOURCE_DOES_NOT_EXIST');
        return send(200, { experiment: { experiment_id: e.experimentId, name: e.name, artifact_location: e.artifactLocation, lifecycle_stage: e.lifecycleStage, last_update_time: e.lastUpdateTime, creation_time: e.creationTime, tags: Object.entries(e.tags).map(([key, value]) => ({ key, value })) } });
      }
      case 'POST experiments/create': {
        const b = json();
        const tags = Object.fromEntries(((b.tags as KeyValue[]) ?? []).map((t) => [t.key, t.value]));
        return send(200, { experiment_id: await store.createExperiment(String(b.name ?? invalid("Missing value for required parameter 'name'.")), tags) });
      }
      case 'POST runs/create': {
        const b = json();
        const tags = Object.fromEntries(((b.tags as KeyValue[]) ?? []).map((t) => [t.key, t.value]));
        const run = await store.createRun({ experimentId: String(b.experiment_id ?? '0'), runName: b.run_name as string | undefined, startTime: b.start_time as number | undefined, userId: b.user_id as string | undefined, tags });
        return send(200, { run: runToWire(run) });
      }
      case 'POST runs/update': {
        const b = json();
        await store.updateRun({ runId: String(b.run_id), status: (b.status as Run['info']['status']) ?? 'RUNNING', endTime: b.end_time as number | undefined, runName: b.run_name as string | undefined });
        const run = await store.getRun(String(b.run_id));
        return send(200, { run_info: runToWire(run).info });
      }
      case 'GET runs/get':
        return send(200, { run: runToWire(await store.getRun(q('run_id') ?? invalid("Missing value for required parameter 'run_id'."))) });
      case 'POST runs/search': {
        const b = json();
        const page = await store.searchRuns({
          experimentIds: (b.experiment_ids as string[]) ?? [], filter: b.filter as string | undefined, maxResults: b.max_results as number | undefined,
          orderBy: b.order_by as string[] | undefined, pageToken: (b.page_token as string | undefined) || undefined,
        });
        return send(200, { ...(page.runs.length ? { runs: page.runs.map(runToWire) } : {}), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) });
      }
      case 'POST runs/log-batch': {
        if (body.length > LIMITS.batchBytes) invalid(`Batched logging API requests must be at most ${LIMITS.batchBytes} bytes, got a request of size ${body.length}.`);
        const b = json();
        const metrics = (b.metrics as Record<string, unknown>[]) ?? [];
        const params = (b.params as KeyValue[]) ?? [];
        const tags = (b.tags as KeyValue[]) ?? [];
        if (metrics.length > LIMITS.metricsPerBatch) invalid(`A batch logging request can contain at most ${LIMITS.metricsPerBatch} metrics. Got ${metrics.length} metrics.`);
        if (params.length > LIMITS.paramsPerBatch) invalid(`A batch logging request can contain at most ${LIMITS.paramsPerBatch} params. Got ${params.length} params.`);
        if (tags.length > LIMITS.tagsPerBatch) invalid(`A batch logging request can contain at most ${LIMITS.tagsPerBatch} tags. Got ${tags.length} tags.`);
        if (metrics.length + params.length + tags.length > LIMITS.entitiesPerBatch) invalid(`A batch logging request can contain at most ${LIMITS.entitiesPerBatch} total metrics, params, and tags.`);
        const keys = params.map((p) => p.key);
        if (new Set(keys).size !== keys.length) invalid('Duplicate parameter keys have been submitted.');
        const decoded: Metric[] = metrics.map((m) => ({ key: String(m.key), value: decodeMetricValue(m.value), timestamp: Number(m.timestamp), step: Number(m.step ?? 0) }));
        await store.logBatch(String(b.run_id), { metrics: decoded, params, tags });
        return send(200, {});
      }
      case 'POST runs/set-tag': {
        const b = json();
        await store.setTag(String(b.run_id), String(b.key), String(b.value));
        return send(200, {});
      }
      case 'GET metrics/get-history': {
        const runId = q('run_id') ?? invalid("Missing value for required parameter 'run_id'.");
        const key = q('metric_key') ?? invalid("Missing value for required parameter 'metric_key'.");
        const max = q('max_results');
        const history = await store.getMetricHistory(runId, key);
        // MLflow 3.6 answers a request without max_results with only a page token
        if (!max) return send(200, history.length ? { next_page_token: Buffer.from(JSON.stringify({ offset: 0 })).toString('base64') } : {});
        const offset = q('page_token') ? (JSON.parse(Buffer.from(q('page_token')!, 'base64').toString()) as { offset: number }).offset : 0;
        const page = history.slice(offset, offset + Number(max));
        const next = offset + Number(max) < history.length ? Buffer.from(JSON.stringify({ offset: offset + Number(max) })).toString('base64') : undefined;
        return send(200, { metrics: page.map((m) => ({ key: m.key, value: encodeMetricValue(m.value), timestamp: m.timestamp, step: m.step })), ...(next ? { next_page_token: next } : {}) });
      }
      default:
        return send(404, { error_code: 'ENDPOINT_NOT_FOUND', message: `no endpoint ${req.method} ${path}` });
    }
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const isApi = path.startsWith('/api/') || path.startsWith('/ajax-api/');
    if (isApi && pending.drop > 0) {
      pending.drop--;
      requests.push({ method: req.method ?? '', path, status: 0 });
      req.socket.destroy();
      return;
    }
    void (async () => {
      const delay = isApi ? pending.delay.shift() : undefined;
      if (delay) await new Promise((r) => setTimeout(r, delay));
      const fail = isApi ? pending.fail.shift() : undefined;
      let status: number;
      if (fail) {
        await readBody(req);
        res.writeHead(fail.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error_code: fail.code, message: `injected failure (${fail.status})` }));
        status = fail.status;
      } else {
        try {
          status = await handle(req, res);
        } catch (error) {
          const { status: s, body } = errorToResponse(error);
          if (!res.headersSent) {
            res.writeHead(s, { 'content-type': 'application/json' });
            res.end(JSON.stringify(body));
          }
          status = s;
        }
      }
      requests.push({ method: req.method ?? '', path, status });
    })();
  });
  await new Promise<void>((r) => server.listen(options.port ?? 0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    store,
    requests,
    faults: {
      failNext: (count, status = 503, errorCode = status === 429 ? 'REQUEST_LIMIT_EXCEEDED' : status === 503 ? 'TEMPORARILY_UNAVAILABLE' : 'INTERNAL_ERROR') => {
        for (let i = 0; i < count; i++) pending.fail.push({ status, code: errorCode });
      },
      dropNextConnections: (count) => {
        pending.drop += count;
      },
      delayNext: (count, ms) => {
        for (let i = 0; i < count; i++) pending.delay.push(ms);
      },
      loseNextAnswers: (count) => {
        pending.lose += count;
      },
    },
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
