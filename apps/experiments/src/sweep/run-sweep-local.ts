/**
 * The default executor: every missing cell of a sweep, one after the other, in this process.
 * Cells whose run already FINISHED under this sweep's parent with this code (or any code, with
 * `--resume any-code`) are skipped; a RUNNING child left by a process that died is marked KILLED
 * (with the reason) and its cell runs again; a cell that fails is marked FAILED with its error and
 * the sweep goes on. A 401/403 from the tracking server stops the sweep (no cell can log).
 */
import { join } from 'node:path';
import type { EngineSelection } from '@cfa/tensor-runtime';
import type { EmbeddingCache } from '@cfa/method-kit';
import type { TrackingStore } from '@cfa/tracking';
import type { PhaseProgress } from '../cli/logger';
import { closeRunKilled, runTrackedCell } from '../tracking/tracked-cell';
import type { LoadedSweep } from './load-sweep';
import { childRuns, finishedByCell, finishedWithOtherCode, type SweepParent } from './sweep-runs';

export interface LocalSweepOptions {
  store: TrackingStore;
  loaded: LoadedSweep;
  parent: SweepParent;
  engine: EngineSelection;
  cache?: EmbeddingCache;
  outRoot: string;
  progress?: PhaseProgress;
  log: (line: string) => void;
  /** Log MLflow's system metrics while each cell computes. */
  systemMetrics?: boolean;
}

export interface SweepOutcome {
  ran: number;
  skipped: number;
  /** Cells that had FINISHED with other code only, and ran again (`--resume same-code`). */
  rerunForCode: number;
  failed: { cell: string; error: string }[];
  killedOrphans: number;
}

/** Marks RUNNING children as KILLED: in the local executor nothing else runs this sweep's cells. */
export async function closeOrphans(store: TrackingStore, parent: SweepParent, reason: string): Promise<number> {
  let n = 0;
  for (const run of await childRuns(store, parent.experimentId, parent.parentRunId)) {
    if (run.info.status !== 'RUNNING') continue;
    await closeRunKilled(store, run.info.runId, reason);
    n++;
  }
  return n;
}

export async function runSweepLocally(options: LocalSweepOptions): Promise<SweepOutcome> {
  const { store, loaded, parent, engine, log } = options;
  const killedOrphans = await closeOrphans(
    store,
    parent,
    'orphaned: the process running this cell ended before it finished (killed or crashed); the cell was run again',
  );
  if (killedOrphans) log(`marked ${killedOrphans} orphaned run(s) KILLED`);
  const children = await childRuns(store, parent.experimentId, parent.parentRunId);
  const finished = finishedByCell(children, parent);
  const otherCode = parent.resume === 'same-code' ? finishedWithOtherCode(children, parent.codeHash) : new Set();
  const todo = loaded.cells.filter((c) => !finished.has(c.key));
  const rerunForCode = todo.filter((c) => otherCode.has(c.key)).length;
  const outcome: SweepOutcome = {
    ran: 0,
    skipped: loaded.cells.length - todo.length,
    rerunForCode,
    failed: [],
    killedOrphans,
  };
  if (outcome.skipped || rerunForCode)
    log(
      `resuming: ${outcome.skipped} of ${loaded.cells.length} cells already finished${parent.resume === 'same-code' ? ` with this code (${parent.codeHash})` : ' (any code)'}, ${todo.length} to run${rerunForCode ? ` — ${rerunForCode} of them finished with other code and run again (--resume any-code keeps such numbers)` : ''}`,
    );
  for (const [i, cell] of todo.entries()) {
    log(`cell ${i + 1}/${todo.length}: ${cell.name}`);
    const { error } = await runTrackedCell({
      store,
      experimentId: parent.experimentId,
      parentRunId: parent.parentRunId,
      sweepName: loaded.sweep.name,
      cell,
      engine,
      cache: options.cache,
      outDir: join(options.outRoot, cell.key),
      log,
      systemMetrics: options.systemMetrics,
      onProgress: (e) =>
        options.progress?.update(
          e.phase,
          e.done,
          e.total,
          `cell ${i + 1}/${todo.length}${e.detail ? `, ${e.detail}` : ''}`,
        ),
    });
    outcome.ran++;
    if (error) {
      outcome.failed.push({ cell: cell.name, error: error.message });
      log(`cell ${cell.name} FAILED: ${error.message}`);
    }
  }
  return outcome;
}
