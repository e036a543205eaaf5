/**
 * What a server answers to raw requests, many of which our client never sends — limits exceeded,
 * a changed param through each endpoint, history without `max_results`, a missing artifact, a POST
 * without JSON content type — checked on the fake and on the real server alike, so that the fake
 * keeps telling the truth about MLflow 3.6. Every fact here was first observed on the real server.
 *
 * @example
 * ```ts
 * serverContract('in-process fake server', () => fake.url);
 * ```
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { modelServerContract } from './model-server-contract';
import { type Answer, send } from './raw-request';

/** A PUT with the path exactly as given (no URL normalisation); resolves to the status. */
function rawPutStatus(base: string, path: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolveStatus, reject) => {
    const req = httpRequest({ host: hostname, port, path, method: 'PUT', headers: { 'content-length': 1 } }, (res) => {
      res.resume();
      res.on('end', () => resolveStatus(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end('x');
  });
}

export function serverContract(label: string, baseUrl: () => string): void {
  describe(`server answers: ${label}`, () => {
    const api = (path: string) => `${baseUrl()}/api/2.0/mlflow/${path}`;
    const post = (path: string, body: unknown) => send(api(path), { method: 'POST', body: JSON.stringify(body) });
    const get = (path: string) => send(api(path));
    const setup = async () => {
      const exp = await post('experiments/create', { name: `raw-${randomUUID().slice(0, 8)}` });
      const run = await post('runs/create', {
        experiment_id: exp.json.experiment_id,
        start_time: 1_700_000_000_000,
        run_name: 'raw',
      });
      const info = (run.json.run as { info: { run_id: string; artifact_uri: string } }).info;
      return { experimentId: String(exp.json.experiment_id), runId: info.run_id, artifactUri: info.artifact_uri };
    };

    it('log-batch over each limit: 400 INVALID_PARAMETER_VALUE (1001 metrics, 101 params, 101 tags, 1001 entities, a param key twice)', async () => {
      const { runId } = await setup();
      const metric = (i: number) => ({ key: 'm', value: i, timestamp: 1, step: i });
      const kv = (p: string) => (i: number) => ({ key: `${p}${i}`, value: 'v' });
      const cases = [
        { metrics: Array.from({ length: 1001 }, (_, i) => metric(i)) },
        { params: Array.from({ length: 101 }, (_, i) => kv('p')(i)) },
        { tags: Array.from({ length: 101 }, (_, i) => kv('t')(i)) },
        {
          metrics: Array.from({ length: 801 }, (_, i) => metric(i)),
          params: Array.from({ length: 100 }, (_, i) => kv('p')(i)),
          tags: Array.from({ length: 100 }, (_, i) => kv('t')(i)),
        },
        {
          params: [
            { key: 'a', value: '1' },
            { key: 'a', value: '1' },
          ],
        },
      ];
      for (const c of cases) {
        const answer = await post('runs/log-batch', { run_id: runId, ...c });
        expect([answer.status, answer.json.error_code], JSON.stringify(Object.keys(c))).toEqual([
          400,
          'INVALID_PARAMETER_VALUE',
        ]);
      }
      expect((await get(`runs/get?run_id=${runId}`)).json.run).not.toHaveProperty('data.metrics');
    });

    it('log-batch at each limit, and a body over 1 MB: accepted (MLflow 3.6 measures the parsed dict, not the bytes)', async () => {
      const { runId } = await setup();
      const at = {
        metrics: Array.from({ length: 800 }, (_, i) => ({ key: 'm', value: i, timestamp: 1, step: i })),
        params: Array.from({ length: 100 }, (_, i) => ({ key: `p${i}`, value: 'v' })),
        tags: Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: 'v' })),
      };
      expect((await post('runs/log-batch', { run_id: runId, ...at })).status).toBe(200);
      const big = {
        params: Array.from({ length: 100 }, (_, i) => ({ key: `big${i}`, value: 'x'.repeat(6000) })),
        tags: Array.from({ length: 100 }, (_, i) => ({ key: `big${i}`, value: 'y'.repeat(8000) })),
      };
      const body = JSON.stringify({ run_id: runId, ...big });
      expect(Buffer.byteLength(body)).toBeGreaterThan(1_000_000);
      expect((await send(api('runs/log-batch'), { method: 'POST', body })).status).toBe(200);
    });

    it('a changed param: 500 INTERNAL_ERROR through log-batch (file store), 400 through log-parameter; same message', async () => {
      const { runId } = await setup();
      expect((await post('runs/log-batch', { run_id: runId, params: [{ key: 'lr', value: '1' }] })).status).toBe(200);
      expect((await post('runs/log-batch', { run_id: runId, params: [{ key: 'lr', value: '1' }] })).status).toBe(200);
      const batch = await post('runs/log-batch', { run_id: runId, params: [{ key: 'lr', value: '2' }] });
      expect([batch.status, batch.json.error_code]).toEqual([500, 'INTERNAL_ERROR']);
      expect(String(batch.json.message)).toMatch(
        /^Changing param values is not allowed. Param with key='lr' was already logged with value='1'/,
      );
      const single = await post('runs/log-parameter', { run_id: runId, key: 'lr', value: '3' });
      expect([single.status, single.json.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
      expect(String(single.json.message)).toMatch(/^Changing param values is not allowed/);
    });

    it('metric history: nothing but a page token without max_results; NaN as "NaN"; run_id on each point; Python page tokens', async () => {
      const { runId } = await setup();
      await post('runs/log-batch', {
        run_id: runId,
        metrics: [
          { key: 'x', value: 'NaN', timestamp: 1, step: 0 },
          { key: 'x', value: 2, timestamp: 2 },
          { key: 'x', value: '-Infinity', timestamp: 3, step: 5 },
        ],
      });
      const bare = await get(`metrics/get-history?run_id=${runId}&metric_key=x`);
      expect(bare.json).toEqual({ next_page_token: Buffer.from('{"offset": 0}').toString('base64') });
      const page = await get(`metrics/get-history?run_id=${runId}&metric_key=x&max_results=2`);
      expect(page.json).toEqual({
        metrics: [
          { key: 'x', value: 'NaN', timestamp: 1, step: 0, run_id: runId },
          { key: 'x', value: 2, timestamp: 2, step: 0, run_id: runId },
        ],
        next_page_token: Buffer.from('{"offset": 2}').toString('base64'),
      });
      const rest = await get(
        `metrics/get-history?run_id=${runId}&metric_key=x&max_results=2&page_token=${page.json.next_page_token}`,
      );
      expect(rest.json).toEqual({ metrics: [{ key: 'x', value: '-Infinity', timestamp: 3, step: 5, run_id: runId }] });
      expect((await get(`metrics/get-history?run_id=${runId}&metric_key=never&max_results=5`)).json).toEqual({});
    });

    it('errors: 404 unknown run and experiment, 400 malformed run id, bad key, missing parameter, taken name, bad filter, bad page token', async () => {
      const { runId } = await setup();
      const expectError = (a: Answer, status: number, code: string) =>
        expect([a.status, a.json.error_code], a.text.slice(0, 200)).toEqual([status, code]);
      expectError(await get('runs/get?run_id=0123456789abcdef0123456789abcdef'), 404, 'RESOURCE_DOES_NOT_EXIST');
      expectError(await get('runs/get?run_id=not-valid!'), 400, 'INVALID_PARAMETER_VALUE');
      expectError(await get('runs/get'), 400, 'INVALID_PARAMETER_VALUE');
      expectError(
        await get('experiments/get-by-name?experiment_name=no-such-experiment-anywhere'),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      expectError(
        await post('runs/create', { experiment_id: '987654321987654321', start_time: 1 }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      expectError(
        await post('runs/update', { run_id: '0123456789abcdef0123456789abcdef', status: 'FINISHED' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      expectError(
        await post('runs/log-batch', { run_id: runId, metrics: [{ key: 'bad!', value: 1, timestamp: 1 }] }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      expectError(
        await post('runs/log-batch', { run_id: runId, metrics: [{ key: 'm', value: 1 }] }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      expectError(await post('runs/create', { run_name: 'no experiment' }), 400, 'INVALID_PARAMETER_VALUE');
      const name = `dup-${randomUUID().slice(0, 8)}`;
      await post('experiments/create', { name });
      expectError(await post('experiments/create', { name }), 400, 'RESOURCE_ALREADY_EXISTS');
      expectError(await post('experiments/create', { name: 'n'.repeat(501) }), 400, 'INVALID_PARAMETER_VALUE');
      expectError(await post('experiments/create', { name: "it's" }), 400, 'INVALID_PARAMETER_VALUE');
      expectError(await get("experiments/get-by-name?experiment_name=it's"), 400, 'INVALID_PARAMETER_VALUE');
      expectError(
        await post('runs/search', { experiment_ids: ['0'], filter: 'bogus filter' }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      expectError(
        await post('runs/search', { experiment_ids: ['0'], page_token: 'garbage' }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      expectError(
        await post('runs/search', { experiment_ids: ['0'], max_results: 60000 }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
    });

    it('a POST without content-type application/json is 400; an unknown endpoint is an HTML 404', async () => {
      const noType = await send(api('runs/search'), { method: 'POST', body: '{}', contentType: null });
      expect([noType.status, noType.json.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
      const unknown = await get('no/such/endpoint');
      expect(unknown.status).toBe(404);
      expect(unknown.json.error_code).toBeUndefined();
    });

    it('runs: create answers info and the run name tag; update answers run_info; a run name that differs from its tag is 400', async () => {
      const { experimentId, runId } = await setup();
      const got = await get(`runs/get?run_id=${runId}`);
      const run = got.json.run as { info: Record<string, unknown>; data: { tags: { key: string; value: string }[] } };
      expect(run.info).toMatchObject({
        run_id: runId,
        run_uuid: runId,
        experiment_id: experimentId,
        run_name: 'raw',
        status: 'RUNNING',
        start_time: 1_700_000_000_000,
        lifecycle_stage: 'active',
      });
      expect(run.info).not.toHaveProperty('end_time');
      expect(run.data.tags).toContainEqual({ key: 'mlflow.runName', value: 'raw' });
      const updated = await post('runs/update', { run_id: runId, status: 'FINISHED', end_time: 1_700_000_001_000 });
      expect(updated.json.run_info).toMatchObject({ run_id: runId, status: 'FINISHED', end_time: 1_700_000_001_000 });
      const clash = await post('runs/create', {
        experiment_id: experimentId,
        run_name: 'a',
        tags: [{ key: 'mlflow.runName', value: 'b' }],
      });
      expect([clash.status, clash.json.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
      const search = await post('runs/search', { experiment_ids: [experimentId], max_results: 0 });
      expect(search.json).toEqual({ next_page_token: Buffer.from('{"offset": 0}').toString('base64') });
      expect((await post('runs/search', { experiment_ids: ['987654321987654321'] })).json).toEqual({});
    });

    it('artifacts through the proxy: PUT, GET, listing (no file_size for an empty file), a missing file is a 500 naming it', async () => {
      const { runId, artifactUri } = await setup();
      expect(artifactUri).toBe(`mlflow-artifacts:${new URL(artifactUri).pathname}`);
      const root = new URL(artifactUri).pathname.replace(/^\//, '');
      const base = `${baseUrl()}/api/2.0/mlflow-artifacts/artifacts`;
      expect(
        (await send(`${base}/${root}/a.txt`, { method: 'PUT', body: 'hello', contentType: 'application/octet-stream' }))
          .status,
      ).toBe(200);
      expect(
        (
          await send(`${base}/${root}/dir/b%20c.bin`, {
            method: 'PUT',
            body: 'x',
            contentType: 'application/octet-stream',
          })
        ).status,
      ).toBe(200);
      expect(
        (await send(`${base}/${root}/empty.txt`, { method: 'PUT', body: '', contentType: 'application/octet-stream' }))
          .status,
      ).toBe(200);
      expect((await send(`${base}/${root}/a.txt`)).text).toBe('hello');
      expect((await send(`${base}/${root}/dir/b%20c.bin`)).text).toBe('x');
      expect((await send(`${base}?path=${root}`)).json).toEqual({
        files: [
          { path: 'a.txt', is_dir: false, file_size: 5 },
          { path: 'dir', is_dir: true },
          { path: 'empty.txt', is_dir: false },
        ],
      });
      expect((await send(`${base}?path=${root}/dir`)).json).toEqual({
        files: [{ path: 'b c.bin', is_dir: false, file_size: 1 }],
      });
      expect((await send(`${base}?path=${root}/nothing-here`)).json).toEqual({});
      const missing = await send(`${base}/${root}/missing.txt`);
      expect([missing.status, missing.json.error_code]).toEqual([500, 'INTERNAL_ERROR']);
      expect(String(missing.json.message)).toMatch(/No such file or directory/);
      const listed = await get(`artifacts/list?run_id=${runId}&path=dir`);
      expect(listed.json).toEqual({
        root_uri: artifactUri,
        files: [{ path: 'dir/b c.bin', is_dir: false, file_size: 1 }],
      });
      // sent raw: URL parsers (undici's too) would resolve the '%2E%2E' segment before sending
      expect(await rawPutStatus(baseUrl(), `/api/2.0/mlflow-artifacts/artifacts/${root}/%2E%2E/escape.txt`)).toBe(400);
    });
  });
  modelServerContract(label, baseUrl);
}
