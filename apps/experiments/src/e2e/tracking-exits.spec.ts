/**
 * The documented commands as users run them (`npx cfa …` from the repository root) against
 * tracking servers that misbehave — one that accepts connections and never answers, one that goes
 * silent mid-sweep, one that wants credentials — and the exit codes they promise: 2 for a bad
 * sweep file, 3 for writes left in the spool, 1 for a refusal. Deadlines are asserted as the stated
 * limit plus slack for a loaded machine, measured from the moment the server was contacted.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileTrackingStore,
  RestTrackingStore,
  searchAllLoggedModels,
  searchAllRuns,
  SpoolingTrackingStore,
} from '@cfa/tracking';
import { processStartTime } from '@cfa/io';
import { startFakeMlflowServer, startSilentServer } from '@cfa/tracking/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { REPO_ROOT, runNpxCfa, startNpxCfa, waitFor } from '../testing/cli-process';
import { TINY_BASE, tinyDataset } from '../testing/tiny-dataset';

const SLACK_MS = 10_000;
let dataRoot: string;
let dir: string;
const cleanup: string[] = [];

beforeAll(async () => {
  dataRoot = await tinyDataset(['weave']);
  dir = await mkdtemp(join(tmpdir(), 'exits-'));
});
afterAll(async () => {
  for (const path of cleanup) await rm(path, { force: true });
});

/** A two-cell sweep file with a name of its own (its spool lives in the repository's .cache/spool). */
async function tinySweep(name: string): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(
    file,
    stringify({
      name,
      reproduces: 'exit codes (test)',
      dataRoot,
      categories: ['weave'],
      heatmaps: 0,
      base: TINY_BASE,
      axes: [{ grid: { 'loss.terms': ['none', 'att'] } }],
      report: { metrics: ['imageAuroc'] },
    }),
  );
  return file;
}

const outArgs = (name: string) => ['--out', join(dir, `out-${name}`), '--feature-cache', join(dir, 'cache')];

describe('exit codes and bounded waits through npx cfa', () => {
  it('a bad sweep file exits 2, nothing run or logged', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, stringify({ name: 'bad', reproduces: 'x', categories: ['weave'], base: { gamaC: 1 } }));
    const result = await runNpxCfa(['sweep', file, '--tracking-uri', join(dir, 'never-written')]);
    expect(result.code, result.output).toBe(2);
    expect(result.output).toMatch(/unknown key 'gamaC'/);
  }, 120_000);

  it('a server that accepts and never answers: the sweep fails within the stated deadline, saying so, nothing run', async () => {
    const silent = await startSilentServer();
    const name = `silent-${Date.now()}`;
    const sweep = startNpxCfa([
      'sweep',
      await tinySweep(name),
      '--tracking-uri',
      silent.url,
      '--tracking-timeout-s',
      '3',
      ...outArgs(name),
    ]);
    const code = await sweep.exited;
    const exitedAt = Date.now();
    await silent.close();
    expect(code, sweep.output()).toBe(1);
    expect(sweep.output()).toMatch(/a request gives up after 3 s/);
    expect(sweep.output()).toMatch(/could not be reached, so nothing was run.*within 3\.0 s/);
    expect(sweep.output()).not.toMatch(/cell 1\//);
    expect(silent.connectedAt.length).toBeGreaterThan(0);
    expect(exitedAt - silent.connectedAt[0]).toBeLessThan(3_000 + SLACK_MS);
  }, 180_000);

  it('the server goes silent mid-sweep: training goes on, --sync-timeout-s is honoured, exit 3; sync-runs delivers and names the command that builds the table; that command finishes the parent', async () => {
    const fake = await startFakeMlflowServer();
    const name = `midway-${Date.now()}`;
    const file = await tinySweep(name);
    const sweep = startNpxCfa([
      'sweep',
      file,
      '--tracking-uri',
      fake.url,
      '--tracking-timeout-s',
      '2',
      '--sync-timeout-s',
      '4',
      ...outArgs(name),
    ]);
    // once the parent and the first cell's run exist, the server stops answering (reads before
    // the first cell — the resume check — are not spooled, so the outage starts after them)
    const creates = () => fake.requests.filter((r) => r.path.endsWith('runs/create')).length;
    await waitFor('the first cell run', async () => creates() >= 2, 180_000, 20);
    fake.faults.hangNext(100_000);
    await waitFor('the final wait', async () => /waiting up to 4 s/.test(sweep.output()), 300_000, 50);
    const waitingAt = Date.now();
    const code = await sweep.exited;
    const exitedAfter = Date.now() - waitingAt;
    // the spool this sweep left in the repository's .cache/spool goes, whatever the assertions say
    const spool = /write\(s\) remain spooled in (\S+\.jsonl)/.exec(sweep.output())?.[1];
    if (spool) cleanup.push(join(REPO_ROOT, spool), join(REPO_ROOT, `${spool}.lock`));
    expect(code, sweep.output()).toBe(3);
    expect(exitedAfter).toBeLessThan(4_000 + SLACK_MS);
    expect(sweep.output()).toMatch(/cell 2\/2/);
    expect(spool, sweep.output()).toBeDefined();
    expect(sweep.output()).toContain(`npx cfa sync-runs --tracking-uri ${fake.url} ${spool}`);
    fake.faults.clear();

    const sync = await runNpxCfa(['sync-runs', '--tracking-uri', fake.url, spool!]);
    expect(sync.code, sync.output).toBe(0);
    const again = /Build it by running the sweep again \(finished cells are reused\): (.+)$/m.exec(sync.output)?.[1];
    expect(again, sync.output).toBe(
      `npx cfa sweep ${file} --tracking-uri ${fake.url} --tracking-timeout-s 2 --sync-timeout-s 4 ${outArgs(name).join(' ')}`,
    );
    const store = new RestTrackingStore({ uri: fake.url });
    const runs = async () =>
      searchAllRuns(store, { experimentIds: [(await store.getExperimentByName(name))!.experimentId] });
    expect((await runs()).find((r) => !r.data.tags['mlflow.parentRunId'])!.info.status).toBe('RUNNING');
    // the cells trained while the server was away got their logged models from sync-runs
    expect(sync.output).toMatch(/its model is now logged model m-[0-9a-f]{32} \(READY\)/);
    const experimentId = (await store.getExperimentByName(name))!.experimentId;
    const cells = (await runs()).filter((r) => r.data.tags['mlflow.parentRunId']);
    const models = await searchAllLoggedModels(store, { experimentIds: [experimentId] });
    expect(models.every((m) => m.status === 'READY')).toBe(true);
    expect(models.map((m) => m.sourceRunId).sort()).toEqual(cells.map((c) => c.info.runId).sort());

    const rerun = await runNpxCfa(again!.split(' ').slice(2));
    expect(rerun.code, rerun.output).toBe(0);
    expect(rerun.output).toMatch(/resuming: 2 of 2 cells already finished with this code/);
    const after = await runs();
    expect(after.find((r) => !r.data.tags['mlflow.parentRunId'])!.info.status).toBe('FINISHED');
    expect(after.filter((r) => r.data.tags['mlflow.parentRunId'] && r.info.status === 'FINISHED')).toHaveLength(2);
    // the source is the script itself, also when started through npx's link
    for (const run of after) expect(run.data.tags['mlflow.source.name']).toBe('apps/experiments/src/main.ts');
    await store.close();
    await fake.close();
  }, 600_000);

  it('sync-runs: exit 3 when the server does not take the spool in time; a lock held by a live process needs --break-lock', async () => {
    const spool = join(dir, 'offline.jsonl');
    const offline = new SpoolingTrackingStore(
      new RestTrackingStore({ uri: 'http://127.0.0.1:9', deadlineMs: 300, retry: { attempts: 1 } }),
      spool,
    );
    await offline.updateRun({ runId: 'f'.repeat(32), status: 'FINISHED' });
    await offline.close({ flush: false });
    const unreachable = await runNpxCfa([
      'sync-runs',
      '--tracking-uri',
      'http://127.0.0.1:9',
      '--sync-timeout-s',
      '2',
      spool,
    ]);
    expect(unreachable.code, unreachable.output).toBe(3);
    expect(unreachable.output).toMatch(/1 write\(s\) stay spooled/);

    const holder = spawn('sleep', ['120'], { stdio: 'ignore' });
    await new Promise((r) => holder.once('spawn', r));
    try {
      await writeFile(
        `${spool}.lock`,
        JSON.stringify({ pid: holder.pid, host: hostname(), start: await processStartTime(holder.pid!) }),
      );
      const fake = await startFakeMlflowServer();
      const busy = await runNpxCfa(['sync-runs', '--tracking-uri', fake.url, spool]);
      expect(busy.code, busy.output).toBe(1);
      expect(busy.output).toMatch(new RegExp(`in use by process ${holder.pid}.*--break-lock`));
      const broken = await runNpxCfa(['sync-runs', '--tracking-uri', fake.url, '--break-lock', spool]);
      // the run it updates does not exist on this server: refused for good, reported, exit 1 — but replayed
      expect(broken.code, broken.output).toBe(1);
      expect(broken.output).toMatch(new RegExp(`took over the lock of .* from process ${holder.pid}`));
      expect(broken.output).toMatch(/0 delivered, 0 metric points already there, 1 refused for good/);
      await fake.close();
    } finally {
      holder.kill('SIGKILL');
    }
  }, 300_000);

  it('credentials from the environment on every command: a wrong password fails at once with exit 1 (nothing run); sync-runs --from-store copies a local store, twice without duplicates', async () => {
    const fake = await startFakeMlflowServer({ auth: { users: { ana: 'right-password-123' } } });
    const name = `auth-${Date.now()}`;
    const wrong = await runNpxCfa(['sweep', await tinySweep(name), '--tracking-uri', fake.url, ...outArgs(name)], {
      MLFLOW_TRACKING_USERNAME: 'ana',
      MLFLOW_TRACKING_PASSWORD: 'wrong-password-456',
    });
    expect(wrong.code, wrong.output).toBe(1);
    expect(wrong.output).toMatch(/401 \(not authenticated\).*'ana'.*MLFLOW_TRACKING_PASSWORD/);
    expect(wrong.output).not.toContain('wrong-password-456');
    expect(wrong.output).not.toMatch(/cell 1\//);

    const local = new FileTrackingStore(join(dir, 'local-mlruns'));
    const experimentId = await local.getOrCreateExperiment('local-sweep');
    const run = await local.createRun({ experimentId, runName: 'cell' });
    await local.logMetric(run.info.runId, 'loss', 0.5, 1);
    const model = await local.createLoggedModel({ experimentId, name: 'cell', sourceRunId: run.info.runId });
    await local.logLoggedModelArtifact(model.modelId, 'MLmodel', 'flavors: {}\n');
    await local.logOutputs(run.info.runId, [{ modelId: model.modelId, step: 0 }]);
    await local.logBatch(run.info.runId, {
      metrics: [{ key: 'image_auroc', value: 0.9, timestamp: 1, step: 0, modelId: model.modelId }],
    });
    await local.finalizeLoggedModel(model.modelId, 'READY');
    await local.updateRun({ runId: run.info.runId, status: 'FINISHED', endTime: Date.now() });
    const env = { MLFLOW_TRACKING_USERNAME: 'ana', MLFLOW_TRACKING_PASSWORD: 'right-password-123' };
    const copy = ['sync-runs', '--from-store', local.location, '--tracking-uri', fake.url];
    const first = await runNpxCfa(copy, env);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(/1 run\(s\) created, 0 already there/);
    expect(first.output).toMatch(
      /1 logged model\(s\) created, 0 already there \(1 model metric\(s\), 1 model file\(s\) sent\)/,
    );
    const second = await runNpxCfa(copy, env);
    expect(second.code, second.output).toBe(0);
    expect(second.output).toMatch(/0 run\(s\) created, 1 already there; 0 param\(s\), 0 tag\(s\), 0 metric point\(s\)/);
    expect(second.output).toMatch(
      /0 logged model\(s\) created, 1 already there \(0 model metric\(s\), 0 model file\(s\) sent\)/,
    );
    const anonymous = await runNpxCfa(copy);
    expect(anonymous.code).toBe(1);
    expect(anonymous.output).toMatch(/needs credentials: set MLFLOW_TRACKING_USERNAME/);
    await fake.close();
  }, 300_000);
});
