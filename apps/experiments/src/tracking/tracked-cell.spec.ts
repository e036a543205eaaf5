/**
 * The exactly-once guard of a cell run: an attempt that no longer owns its cell (a lost job lock,
 * or another attempt that closed its run meanwhile) never marks its run FINISHED.
 */
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectEngine } from '@cfa/tensor-runtime';
import { FileTrackingStore } from '@cfa/tracking';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadSweep } from '../sweep/load-sweep';
import { openSweepParent } from '../sweep/sweep-runs';
import { TINY_BASE, tinyDataset } from '../testing/tiny-dataset';
import { CFA_TAGS, CellSupersededError, findCellRuns, runClosedByAnotherAttempt, runTrackedCell } from './tracked-cell';
import { writeSweepFile } from '../testing/sweep-file';

let dir: string;
let file: string;
beforeAll(async () => {
  const dataRoot = await tinyDataset(['weave']);
  dir = await mkdtemp(join(tmpdir(), 'tracked-cell-'));
  file = await writeSweepFile(dir, {
    name: 'one-cell',
    reproduces: 'test',
    dataRoot,
    categories: ['weave'],
    heatmaps: 0,
    base: TINY_BASE,
    axes: [{ grid: { 'loss.terms': ['att'] } }],
    report: { metrics: ['imageAuroc'] },
  });
});

async function runOnce(
  ownershipLost: (
    store: FileTrackingStore,
    experimentId: string,
    parentRunId: string,
    runId: string,
  ) => Promise<string | undefined>,
) {
  const store = new FileTrackingStore(join(dir, `mlruns-${Math.random().toString(36).slice(2)}`));
  const loaded = await loadSweep(file);
  const parent = await openSweepParent(store, loaded);
  const engine = await selectEngine({ requested: 'auto', tfBackend: 'wasm', threads: 1 });
  const outcome = await runTrackedCell({
    store,
    experimentId: parent.experimentId,
    parentRunId: parent.parentRunId,
    sweepName: 'one-cell',
    cell: loaded.cells[0],
    engine,
    outDir: join(dir, 'out'),
    ownershipLost: (runId) => ownershipLost(store, parent.experimentId, parent.parentRunId, runId),
  });
  const run = await store.getRun(outcome.runId);
  return { outcome, run };
}

describe('runTrackedCell', () => {
  it('marks the run FINISHED when the attempt still owns the cell', async () => {
    const { outcome, run } = await runOnce(async (store, _e, _p, runId) => runClosedByAnotherAttempt(store, runId));
    expect(outcome.error).toBeUndefined();
    expect(run.info.status).toBe('FINISHED');
  });

  it('closes the run KILLED with the reason when the attempt lost its job', async () => {
    const { outcome, run } = await runOnce(async () => 'worker w1 lost the lock of job j1');
    expect(outcome.error).toBeInstanceOf(CellSupersededError);
    expect(run.info.status).toBe('KILLED');
    expect(run.data.tags[CFA_TAGS.error]).toBe('superseded: worker w1 lost the lock of job j1');
  });

  it('does not overwrite a KILLED set by another attempt while this one was computing, and reads an unreachable server as still running', async () => {
    // the other attempt's update lands just before this one would finish
    const { outcome, run } = await runOnce(async (store, experimentId, parentRunId, runId) => {
      const [running] = await findCellRuns(store, experimentId, parentRunId, (await loadSweep(file)).cells[0].key);
      expect(running.info.runId).toBe(runId);
      expect(await runClosedByAnotherAttempt(store, runId)).toBeUndefined();
      await store.updateRun({ runId, status: 'KILLED', endTime: Date.now() });
      return runClosedByAnotherAttempt(store, runId);
    });
    expect(outcome.error).toBeInstanceOf(CellSupersededError);
    expect(run.info.status).toBe('KILLED');
    expect(run.data.tags[CFA_TAGS.error]).toMatch(/another attempt closed this run \(KILLED\)/);
    const unreachable = {
      getRun: () => Promise.reject(new Error('connect ECONNREFUSED')),
    } as unknown as FileTrackingStore;
    expect(await runClosedByAnotherAttempt(unreachable, run.info.runId)).toBeUndefined();
  });

  it('on the embedded default, draws only its own category before naming the dataset input', async () => {
    const home = await mkdtemp(join(tmpdir(), 'tracked-default-'));
    const sweepFile = join(home, 'default-data.yaml');
    await writeFile(
      sweepFile,
      stringify({ name: 'default-data', reproduces: 'test', categories: ['oak'], heatmaps: 0, base: TINY_BASE }),
    );
    const cwd = process.cwd();
    process.chdir(home); // the embedded default is ./data/synthetic
    try {
      const store = new FileTrackingStore(join(home, 'mlruns'));
      const loaded = await loadSweep(sweepFile);
      const parent = await openSweepParent(store, loaded);
      // stop right after the dataset is ensured: the input is what needs the files
      store.logInputs = () => Promise.reject(new Error('stop here'));
      const outcome = await runTrackedCell({
        store,
        experimentId: parent.experimentId,
        parentRunId: parent.parentRunId,
        sweepName: 'default-data',
        cell: loaded.cells[0],
        engine: await selectEngine({ requested: 'auto', tfBackend: 'wasm', threads: 1 }),
        outDir: join(home, 'out'),
        ownershipLost: async () => undefined,
      });
      expect(outcome.error?.message).toBe('stop here');
      expect((await readdir(join(home, 'data', 'synthetic'))).filter((f) => !f.startsWith('.'))).toEqual(['oak']);
    } finally {
      process.chdir(cwd);
    }
  });
});
