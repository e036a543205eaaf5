/**
 * The spool against the REAL MLflow server: started with `serve.sh` (`MLFLOW_SERVE_SCRIPT`, else
 * `../shared/mlflow-server/serve.sh` beside the repository root; skipped with the reason when
 * absent), stopped in the middle of a run's logging, started again on the same port and store —
 * no metric may be lost and none may arrive twice.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RestTrackingStore } from './rest-store';
import { isPendingRunId, SpoolingTrackingStore } from './spooling-store';
import { findServeScript, freePort, type RealServer, startRealMlflow } from './testing/real-server';
import { searchAllRuns } from './tracking-store';

const { script, reason } = findServeScript();
if (!script) process.stderr.write(`[tracking] spool against the real MLflow server: skipped, ${reason}\n`);

describe.skipIf(!script)('SpoolingTrackingStore against the real MLflow server, stopped and restarted mid-run', () => {
  let server: RealServer | undefined;
  afterAll(async () => server?.stop());

  it('0 metrics lost, 0 duplicated; the run created during the outage exists once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spool-real-'));
    const store = join(dir, 'mlruns');
    const port = await freePort();
    server = await startRealMlflow(script!, store, port);
    const events: string[] = [];
    const spool = join(dir, 'spool.jsonl');
    const rest = new RestTrackingStore({
      uri: server.url,
      retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 200 },
      connectTimeoutMs: 1000,
      requestTimeoutMs: 5000,
    });
    const tracking = new SpoolingTrackingStore(rest, spool, { retryIntervalMs: 200, onEvent: (l) => events.push(l) });
    const exp = await tracking.getOrCreateExperiment('outage-real');
    const parent = await tracking.createRun({ experimentId: exp, runName: 'parent' });
    const cells = [await tracking.createRun({ experimentId: exp, runName: 'cell 0', parentRunId: parent.info.runId })];
    const sent = new Map<string, number[]>();
    const t0 = 1_700_000_000_000;
    for (let step = 0; step < 200; step++) {
      if (step === 60) await server.stop();
      if (step === 100) {
        const cell = await tracking.createRun({ experimentId: exp, runName: 'cell 1', parentRunId: parent.info.runId });
        expect(isPendingRunId(cell.info.runId)).toBe(true);
        cells.push(cell);
      }
      if (step === 150) server = await startRealMlflow(script!, store, port);
      const cell = cells.at(-1)!;
      await tracking.logBatch(cell.info.runId, {
        metrics: [
          { key: 'loss', value: 1 / (step + 1), timestamp: t0 + step, step },
          { key: 'special', value: step % 2 ? NaN : -Infinity, timestamp: t0 + step, step },
        ],
      });
      sent.set(cell.info.runName, [...(sent.get(cell.info.runName) ?? []), step]);
    }
    await tracking.updateRun({ runId: cells[1].info.runId, status: 'FINISHED', endTime: t0 + 10_000 });
    await tracking.updateRun({ runId: parent.info.runId, status: 'FINISHED', endTime: t0 + 10_001 });
    for (let i = 0; i < 50 && !(await tracking.flush()); i++) await new Promise((r) => setTimeout(r, 200));
    expect(tracking.backlog).toBe(0);
    expect(tracking.stats.spooled).toBeGreaterThan(100);
    expect(events.some((e) => /spooling to/.test(e))).toBe(true);

    const check = new RestTrackingStore({ uri: server.url });
    const runs = await searchAllRuns(check, { experimentIds: [exp] });
    expect(runs.map((r) => r.info.runName).sort()).toEqual(['cell 0', 'cell 1', 'parent']);
    let found = 0;
    for (const run of runs.filter((r) => r.info.runName.startsWith('cell'))) {
      const loss = await check.getMetricHistory(run.info.runId, 'loss');
      expect(
        loss.map((m) => m.step),
        run.info.runName,
      ).toEqual(sent.get(run.info.runName));
      expect(loss.map((m) => m.value)).toEqual(sent.get(run.info.runName)!.map((s) => 1 / (s + 1)));
      expect((await check.getMetricHistory(run.info.runId, 'special')).map((m) => m.step)).toEqual(
        sent.get(run.info.runName),
      );
      found += loss.length;
    }
    expect(found).toBe(200);
    expect(runs.find((r) => r.info.runName === 'cell 1')!.info).toMatchObject({
      status: 'FINISHED',
      endTime: t0 + 10_000,
    });
    expect(runs.find((r) => r.info.runName === 'parent')!.info.status).toBe('FINISHED');
    expect(await readFile(spool, 'utf8')).toBe('');
    await tracking.close();
    await check.close();
  }, 300_000);
});
