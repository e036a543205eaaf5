/**
 * What a server answers to MLflow 3's logged-model calls and to the Model Registry calls our
 * clients make — endpoints that `service.proto` declares PUBLIC_UNDOCUMENTED and MLflow's REST page
 * leaves out — checked on the fake and on the real server alike (`serverContract` runs it), so
 * that the fake keeps telling the truth. Every fact was first observed on MLflow 3.6's file-store
 * server: `POST logged-models` → PENDING with `m-<32 hex>` ids and artifacts under
 * `<experiment>/models/<id>/artifacts`; `PATCH logged-models/<id>` takes the status by its enum
 * name (`LOGGED_MODEL_READY`, not `READY`); metrics reach a model through `runs/log-batch` with
 * `model_id`, with `dataset_name`/`dataset_digest`; `runs/outputs` links it to the run; a version
 * registered from `models:/<id>` has that model's artifact folder as its download URI and tags the
 * model `mlflow.modelVersions`; aliases resolve; `latest` is reserved.
 *
 * @example
 * ```ts
 * modelServerContract('in-process fake server', () => fake.url);
 * ```
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Answer, send } from './raw-request';

type Json = Record<string, unknown>;

export function modelServerContract(label: string, baseUrl: () => string): void {
  describe(`server answers, logged models and registry: ${label}`, () => {
    const api = (path: string) => `${baseUrl()}/api/2.0/mlflow/${path}`;
    const call = (method: 'POST' | 'PATCH', path: string, body: unknown) =>
      send(api(path), { method, body: JSON.stringify(body) });
    const get = (path: string) => send(api(path));
    const expectError = (a: Answer, status: number, code: string) =>
      expect([a.status, a.json.error_code], a.text.slice(0, 300)).toEqual([status, code]);
    const setup = async () => {
      const exp = await call('POST', 'experiments/create', { name: `models-${randomUUID().slice(0, 8)}` });
      const experimentId = String(exp.json.experiment_id);
      const run = await call('POST', 'runs/create', { experiment_id: experimentId, start_time: 1_700_000_000_000 });
      const runId = (run.json.run as { info: { run_id: string } }).info.run_id;
      return { experimentId, runId };
    };
    const info = (a: Answer) => (a.json.model as { info: Json }).info;
    const data = (a: Answer) => ((a.json.model as { data?: Json }).data ?? {}) as Json;

    it('create: PENDING, an m-<32 hex> id, artifacts under the experiment, params and tags; a name is made up when none is given', async () => {
      const { experimentId, runId } = await setup();
      const created = await call('POST', 'logged-models', {
        experiment_id: experimentId,
        name: 'fleece-cfa',
        model_type: 'anomaly-detector',
        source_run_id: runId,
        params: [{ key: 'method', value: 'cfa' }],
        tags: [{ key: 'cfa.category', value: 'fleece' }],
      });
      expect(created.status).toBe(200);
      const i = info(created);
      expect(i).toMatchObject({
        experiment_id: experimentId,
        name: 'fleece-cfa',
        status: 'LOGGED_MODEL_PENDING',
        model_type: 'anomaly-detector',
        source_run_id: runId,
        tags: [{ key: 'cfa.category', value: 'fleece' }],
      });
      expect(i.model_id).toMatch(/^m-[0-9a-f]{32}$/);
      expect(i.artifact_uri).toBe(`mlflow-artifacts:/${experimentId}/models/${i.model_id}/artifacts`);
      expect(i.creation_timestamp_ms).toBe(i.last_updated_timestamp_ms);
      expect(data(created)).toEqual({ params: [{ key: 'method', value: 'cfa' }] });
      const bare = info(await call('POST', 'logged-models', { experiment_id: experimentId }));
      expect(bare).toMatchObject({ model_type: '', source_run_id: '', status: 'LOGGED_MODEL_PENDING' });
      expect(bare.name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
      expect(bare).not.toHaveProperty('tags');
    });

    it('create errors: 400 without an experiment, 404 for an unknown one, 400 for a name with / : . % quotes', async () => {
      const { experimentId } = await setup();
      expectError(await call('POST', 'logged-models', { name: 'x' }), 400, 'INVALID_PARAMETER_VALUE');
      expectError(
        await call('POST', 'logged-models', { experiment_id: '987654321987654321' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      for (const name of ['a/b', 'a:b', 'a.b', 'a%b'])
        expectError(
          await call('POST', 'logged-models', { experiment_id: experimentId, name }),
          400,
          'INVALID_PARAMETER_VALUE',
        );
      expectError(await get('logged-models/m-0123456789abcdef0123456789abcdef'), 404, 'RESOURCE_DOES_NOT_EXIST');
    });

    it("finalize: by the enum's name or number; 'READY' or no status is 400", async () => {
      const { experimentId } = await setup();
      const id = String(info(await call('POST', 'logged-models', { experiment_id: experimentId })).model_id);
      expectError(
        await call('PATCH', `logged-models/${id}`, { model_id: id, status: 'READY' }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      expectError(await call('PATCH', `logged-models/${id}`, { model_id: id }), 400, 'INVALID_PARAMETER_VALUE');
      const failed = await call('PATCH', `logged-models/${id}`, { model_id: id, status: 3 });
      expect(info(failed).status).toBe('LOGGED_MODEL_UPLOAD_FAILED');
      const ready = await call('PATCH', `logged-models/${id}`, { model_id: id, status: 'LOGGED_MODEL_READY' });
      expect(info(ready).status).toBe('LOGGED_MODEL_READY');
      expect(info(await get(`logged-models/${id}`)).status).toBe('LOGGED_MODEL_READY');
    });

    it('metrics through log-batch with model_id and a dataset; runs/outputs; tags and params; artifacts through the proxy', async () => {
      const { experimentId, runId } = await setup();
      const id = String(
        info(await call('POST', 'logged-models', { experiment_id: experimentId, source_run_id: runId })).model_id,
      );
      const batch = await call('POST', 'runs/log-batch', {
        run_id: runId,
        metrics: [
          {
            key: 'image_auroc',
            value: 0.9,
            timestamp: 5,
            step: 0,
            model_id: id,
            dataset_name: 'fleece',
            dataset_digest: 'abc123',
          },
          { key: 'pixel_auroc', value: 0.8, timestamp: 5, step: 0, model_id: id },
        ],
      });
      expect(batch.status).toBe(200);
      expect((await call('POST', 'runs/outputs', { run_id: runId, models: [{ model_id: id, step: 0 }] })).json).toEqual(
        {},
      );
      expect(
        (await call('PATCH', `logged-models/${id}/tags`, { tags: [{ key: 'stage', value: 'test' }] })).json,
      ).toEqual({});
      expect(
        (
          await call('POST', `logged-models/${id}/params`, {
            model_id: id,
            params: [{ key: 'backbone', value: 'resnet18' }],
          })
        ).json,
      ).toEqual({});
      const root = `${experimentId}/models/${id}/artifacts`;
      const put = await send(`${baseUrl()}/api/2.0/mlflow-artifacts/artifacts/${root}/MLmodel`, {
        method: 'PUT',
        body: 'flavors: {}',
        contentType: 'application/octet-stream',
      });
      expect(put.status).toBe(200);
      const listed = await get(`logged-models/${id}/artifacts/directories`);
      expect(listed.json).toEqual({
        root_uri: `mlflow-artifacts:/${root}`,
        files: [{ path: 'MLmodel', is_dir: false, file_size: 11 }],
      });
      const model = await get(`logged-models/${id}`);
      expect(info(model).tags).toEqual([{ key: 'stage', value: 'test' }]);
      const d = data(model);
      expect(d.params).toEqual([{ key: 'backbone', value: 'resnet18' }]);
      expect(d.metrics).toEqual([
        {
          key: 'image_auroc',
          value: 0.9,
          timestamp: 5,
          step: 0,
          dataset_name: 'fleece',
          dataset_digest: 'abc123',
          model_id: id,
          run_id: runId,
        },
        { key: 'pixel_auroc', value: 0.8, timestamp: 5, step: 0, model_id: id, run_id: runId },
      ]);
      const run = (await get(`runs/get?run_id=${runId}`)).json.run as Json;
      expect(run.outputs).toEqual({ model_outputs: [{ model_id: id, step: 0 }] });
      const history = await get(`metrics/get-history?run_id=${runId}&metric_key=image_auroc&max_results=10`);
      expect((history.json.metrics as Json[])[0]).toMatchObject({
        value: 0.9,
        dataset_name: 'fleece',
        dataset_digest: 'abc123',
      });
    });

    it('search: by metric, nothing as {}, pages; 400 without experiment ids or with a bad filter', async () => {
      const { experimentId, runId } = await setup();
      for (const [i, v] of [0.6, 0.9].entries()) {
        const id = String(
          info(await call('POST', 'logged-models', { experiment_id: experimentId, name: `m${i}` })).model_id,
        );
        await call('POST', 'runs/log-batch', {
          run_id: runId,
          metrics: [{ key: 'auc', value: v, timestamp: 1, step: 0, model_id: id }],
        });
      }
      const search = (body: Json) => call('POST', 'logged-models/search', { experiment_ids: [experimentId], ...body });
      const names = (a: Answer) => ((a.json.models as { info: Json }[] | undefined) ?? []).map((m) => m.info.name);
      expect(names(await search({}))).toEqual(['m1', 'm0']);
      expect(names(await search({ filter: 'metrics.auc > 0.7' }))).toEqual(['m1']);
      expect((await search({ filter: 'metrics.auc > 0.95' })).json).toEqual({});
      const page = await search({ max_results: 1 });
      expect(names(page)).toEqual(['m1']);
      expect(names(await search({ max_results: 1, page_token: page.json.next_page_token }))).toEqual(['m0']);
      expectError(await call('POST', 'logged-models/search', {}), 400, 'INVALID_PARAMETER_VALUE');
      expectError(await search({ filter: 'bogus' }), 400, 'INVALID_PARAMETER_VALUE');
    });

    it('registry: a version from models:/<id> (download URI = the model folder, the model tagged), version tags, aliases, errors', async () => {
      const { experimentId, runId } = await setup();
      const id = String(
        info(await call('POST', 'logged-models', { experiment_id: experimentId, source_run_id: runId })).model_id,
      );
      const name = `reg-${randomUUID().slice(0, 8)}`;
      expect((await call('POST', 'registered-models/create', { name })).json).toMatchObject({
        registered_model: { name },
      });
      expectError(await call('POST', 'registered-models/create', { name }), 400, 'RESOURCE_ALREADY_EXISTS');
      expectError(await get(`registered-models/get?name=${name}-absent`), 404, 'RESOURCE_DOES_NOT_EXIST');
      // no run_id sent: the server takes the model's source run; it keeps model_id but does not send it back
      const created = await call('POST', 'model-versions/create', { name, source: `models:/${id}`, model_id: id });
      expect(created.json.model_version).toMatchObject({
        name,
        version: '1',
        source: `models:/${id}`,
        run_id: runId,
        status: 'READY',
      });
      expect(created.json.model_version).not.toHaveProperty('model_id');
      const missing = await call('POST', 'model-versions/create', {
        name,
        source: 'models:/m-0123456789abcdef0123456789abcdef',
        model_id: 'm-0123456789abcdef0123456789abcdef',
      });
      expectError(missing, 500, 'INTERNAL_ERROR');
      expect(String(missing.json.message)).toMatch(/^Unable to fetch model from model URI source/);
      expect(info(await get(`logged-models/${id}`)).tags).toEqual([
        { key: 'mlflow.modelVersions', value: `[{"name": "${name}", "version": 1}]` },
      ]);
      expect((await get(`model-versions/get-download-uri?name=${name}&version=1`)).json).toEqual({
        artifact_uri: `mlflow-artifacts:/${experimentId}/models/${id}/artifacts`,
      });
      expect(
        (await call('POST', 'model-versions/set-tag', { name, version: '1', key: 'auroc', value: '0.9' })).json,
      ).toEqual({});
      expect((await call('POST', 'registered-models/alias', { name, alias: 'champion', version: '1' })).json).toEqual(
        {},
      );
      const byAlias = await get(`registered-models/alias?name=${name}&alias=champion`);
      expect(byAlias.json.model_version).toMatchObject({
        version: '1',
        aliases: ['champion'],
        tags: [{ key: 'auroc', value: '0.9' }],
      });
      expect((await get(`registered-models/get?name=${name}`)).json.registered_model).toMatchObject({
        aliases: [{ alias: 'champion', version: '1' }],
      });
      expectError(
        await call('POST', 'registered-models/alias', { name, alias: 'latest', version: '1' }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      expectError(
        await call('POST', 'registered-models/alias', { name, alias: 'v1', version: '1' }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      expectError(
        await call('POST', 'registered-models/alias', { name, alias: 'x', version: '9' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      expectError(await get(`model-versions/get?name=${name}&version=9`), 404, 'RESOURCE_DOES_NOT_EXIST');
      expectError(await get(`registered-models/alias?name=${name}&alias=nope`), 400, 'INVALID_PARAMETER_VALUE');
    });
  });
}
