/**
 * What a server answers to raw requests that our client never sends — limits exceeded, a changed
 * param, history without max_results — checked on the fake and on the real server, so that the
 * fake keeps telling the truth about MLflow.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

async function post(base: string, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(`${base}/api/2.0/mlflow/${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? JSON.parse(text) : {} };
}

async function get(base: string, path: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(`${base}/api/2.0/mlflow/${path}`);
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? JSON.parse(text) : {} };
}

export function serverContract(label: string, baseUrl: () => string): void {
  describe(`server answers: ${label}`, () => {
    const setup = async () => {
      const base = baseUrl();
      const exp = await post(base, 'experiments/create', { name: `raw-${randomUUID().slice(0, 8)}` });
      const run = await post(base, 'runs/create', { experiment_id: exp.json.experiment_id, start_time: Date.now() });
      return { base, runId: (run.json.run as { info: { run_id: string } }).info.run_id };
    };

    it('log-batch over the limits: 400 INVALID_PARAMETER_VALUE (1001 metrics, 101 params, duplicate param keys)', async () => {
      const { base, runId } = await setup();
      const metrics = Array.from({ length: 1001 }, (_, i) => ({ key: 'm', value: i, timestamp: 1, step: i }));
      const tooMany = await post(base, 'runs/log-batch', { run_id: runId, metrics });
      expect([tooMany.status, tooMany.json.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
      const params = Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: 'v' }));
      expect((await post(base, 'runs/log-batch', { run_id: runId, params })).status).toBe(400);
      const dup = await post(base, 'runs/log-batch', { run_id: runId, params: [{ key: 'a', value: '1' }, { key: 'a', value: '1' }] });
      expect([dup.status, dup.json.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    });

    it('a param changed through log-batch: 500 INTERNAL_ERROR saying values cannot change (file store)', async () => {
      const { base, runId } = await setup();
      expect((await post(base, 'runs/log-batch', { run_id: runId, params: [{ key: 'lr', value: '1' }] })).status).toBe(200);
      const changed = await post(base, 'runs/log-batch', { run_id: runId, params: [{ key: 'lr', value: '2' }] });
      expect(changed.status).toBe(500);
      expect(changed.json.error_code).toBe('INTERNAL_ERROR');
      expect(String(changed.json.message)).toMatch(/Changing param values is not allowed/);
    });

    it('metric history without max_results returns no metrics; NaN comes back as the string "NaN"', async () => {
      const { base, runId } = await setup();
      await post(base, 'runs/log-batch', { run_id: runId, metrics: [{ key: 'x', value: 'NaN', timestamp: 1, step: 0 }] });
      const bare = await get(base, `metrics/get-history?run_id=${runId}&metric_key=x`);
      expect(bare.status).toBe(200);
      expect(bare.json.metrics).toBeUndefined();
      const full = await get(base, `metrics/get-history?run_id=${runId}&metric_key=x&max_results=10`);
      expect((full.json.metrics as { value: unknown }[])[0].value).toBe('NaN');
    });

    it('an unknown run: 404 RESOURCE_DOES_NOT_EXIST; a taken experiment name: 400 RESOURCE_ALREADY_EXISTS', async () => {
      const base = baseUrl();
      const missing = await get(base, 'runs/get?run_id=0123456789abcdef0123456789abcdef');
      expect([missing.status, missing.json.error_code]).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
      const name = `dup-${randomUUID().slice(0, 8)}`;
      await post(base, 'experiments/create', { name });
      const again = await post(base, 'experiments/create', { name });
      expect([again.status, again.json.error_code]).toEqual([400, 'RESOURCE_ALREADY_EXISTS']);
    });
  });
}
