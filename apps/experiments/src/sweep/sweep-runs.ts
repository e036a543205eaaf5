/**
 * A sweep's MLflow structure: one parent run per sweep (found again on a re-run by the sweep key,
 * so a resumed sweep keeps its parent), child runs per cell under it, and the rows of the
 * comparison table read back from the children.
 */
import { createHash } from 'node:crypto';
import { categoryKind } from '@cfa/data';
import { MLFLOW_TAGS, type Run, searchAllRuns, type TrackingStore } from '@cfa/tracking';
import { DEFAULT_SYNTHETIC_ROOT } from '../run/run-config';
import { type CellRow, MLFLOW_METRIC_OF } from '../report/comparison-table';
import { CFA_TAGS } from '../tracking/tracked-cell';
import { flattenConfig } from '../tracking/flatten';
import { gitCommit } from '../tracking/git-commit';
import type { LoadedSweep } from './load-sweep';
import type { MetricName } from './sweep-schema';

/** Identity of a sweep's content: its name and the keys of all its cells. */
export function sweepKey(loaded: LoadedSweep): string {
  return createHash('sha256')
    .update(JSON.stringify([loaded.sweep.name, loaded.cells.map((c) => c.key).sort()]))
    .digest('hex')
    .slice(0, 16);
}

export interface SweepParent {
  experimentId: string;
  parentRunId: string;
  resumed: boolean;
}

export async function openSweepParent(store: TrackingStore, loaded: LoadedSweep): Promise<SweepParent> {
  const experimentId = await store.getOrCreateExperiment(loaded.sweep.name, {
    'cfa.reproduces': loaded.sweep.reproduces,
  });
  const key = sweepKey(loaded);
  const existing = await searchAllRuns(store, {
    experimentIds: [experimentId],
    filter: `tags.\`${CFA_TAGS.sweepKey}\` = '${key}'`,
  });
  const parent = existing.find((r) => !r.data.tags[MLFLOW_TAGS.parentRunId]);
  if (parent) {
    await store.updateRun({ runId: parent.info.runId, status: 'RUNNING' });
    return { experimentId, parentRunId: parent.info.runId, resumed: true };
  }
  const run = await store.createRun({
    experimentId,
    runName: `${loaded.sweep.name} (${loaded.cells.length} cells)`,
    tags: {
      [CFA_TAGS.sweep]: loaded.sweep.name,
      [CFA_TAGS.sweepKey]: key,
      [MLFLOW_TAGS.gitCommit]: gitCommit(),
      [MLFLOW_TAGS.note]: `${loaded.sweep.reproduces}${loaded.sweep.description ? `\n\n${loaded.sweep.description}` : ''}`,
      'cfa.reproduces': loaded.sweep.reproduces,
    },
  });
  const s = loaded.sweep;
  const params = flattenConfig({
    sweep: {
      name: s.name,
      categories: s.categories,
      seeds: s.seeds,
      dataRoot: s.dataRoot ?? `synthetic (${DEFAULT_SYNTHETIC_ROOT})`,
      cells: loaded.cells.length,
    },
    base: s.base,
    axes: Object.fromEntries(
      s.axes.map((a, i) => [`${i}.${'zip' in a ? 'zip' : 'grid'}`, 'zip' in a ? a.zip : a.grid]),
    ),
  });
  await store.logBatch(run.info.runId, {
    params: Object.entries(params).map(([k, value]) => ({ key: k.replace(/[^/\w.\- :]/g, '_'), value })),
  });
  await store.logArtifact(run.info.runId, `sweep/${s.name}.yaml`, loaded.text);
  return { experimentId, parentRunId: run.info.runId, resumed: false };
}

export async function childRuns(store: TrackingStore, experimentId: string, parentRunId: string): Promise<Run[]> {
  return searchAllRuns(store, {
    experimentIds: [experimentId],
    filter: `tags.\`${MLFLOW_TAGS.parentRunId}\` = '${parentRunId}'`,
  });
}

/** The newest FINISHED child of each cell key. */
export function finishedByCell(children: Run[]): Map<string, Run> {
  const out = new Map<string, Run>();
  for (const run of [...children].sort((a, b) => a.info.startTime - b.info.startTime)) {
    if (run.info.status === 'FINISHED') out.set(run.data.tags[CFA_TAGS.cellKey], run);
  }
  return out;
}

export async function comparisonRows(
  store: TrackingStore,
  loaded: LoadedSweep,
  parent: SweepParent,
): Promise<CellRow[]> {
  const children = await childRuns(store, parent.experimentId, parent.parentRunId);
  const finished = finishedByCell(children);
  const root = loaded.sweep.dataRoot ?? DEFAULT_SYNTHETIC_ROOT;
  const rows: CellRow[] = [];
  for (const cell of loaded.cells) {
    const run = finished.get(cell.key);
    const failed =
      !run && children.some((c) => c.data.tags[CFA_TAGS.cellKey] === cell.key && c.info.status === 'FAILED');
    rows.push({
      category: cell.category,
      kind: await categoryKind(root, cell.category),
      seed: cell.seed,
      assignments: cell.assignments,
      selection: cell.config.cfa.evaluation.selection,
      status: run ? 'FINISHED' : failed ? 'FAILED' : 'MISSING',
      metrics: run
        ? Object.fromEntries(
            (Object.keys(MLFLOW_METRIC_OF) as MetricName[]).map((m) => [
              m,
              run.data.metrics[MLFLOW_METRIC_OF[m]]?.value,
            ]),
          )
        : {},
    });
  }
  return rows;
}
