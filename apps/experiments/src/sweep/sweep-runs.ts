/**
 * A sweep's MLflow structure: one parent run per sweep (found again on a re-run by the sweep key,
 * so a resumed sweep keeps its parent; `fresh` starts a new one), child runs per cell under it,
 * and the rows of the comparison table read back from the children.
 *
 * What counts as finished depends on the code: a cell is finished when a child run of it FINISHED
 * with the current code hash (`cfa.code.hash`, code-version.ts) — the default `resume: 'same-code'`
 * — or with any code (`'any-code'`: numbers from older code are kept, and the table says so).
 */
import { createHash } from 'node:crypto';
import { categoryKind } from '@cfa/data';
import { MLFLOW_TAGS, type Run, searchAllRuns, type TrackingStore } from '@cfa/tracking';
import { DEFAULT_SYNTHETIC_ROOT } from '../run/run-config';
import { sharedFields } from '../methods/registry';
import { type CellRow, MLFLOW_METRIC_OF } from '../report/comparison-table';
import { CFA_TAGS } from '../tracking/tracked-cell';
import { flattenConfig } from '../tracking/flatten';
import { resolveExperiment } from '../tracking/experiment-target';
import { runSource, runSourceTags, SOURCE_TAGS } from '../tracking/run-source';
import type { LoadedSweep } from './load-sweep';
import { axisFields, type MetricName } from './sweep-schema';

/** Which finished cells a resumed sweep keeps: those computed by this code (default), or any. */
export const RESUME_POLICIES = ['same-code', 'any-code'] as const;
export type ResumePolicy = (typeof RESUME_POLICIES)[number];

/** Tags of a sweep's parent run beyond the run source. */
export const PARENT_TAGS = {
  /** The command that runs this sweep again, without credentials: what `sync-runs` tells users to run. */
  command: 'cfa.command',
  /** After the table: the code hashes its numbers came from, comma-separated. */
  codeHashes: 'cfa.code.hashes',
  resume: 'cfa.resume',
} as const;

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
  /** The hash of this process's result code. */
  codeHash: string;
  resume: ResumePolicy;
}

export interface OpenSweepOptions {
  /** A new parent run even when one exists for this sweep (`--fresh`). */
  fresh?: boolean;
  resume?: ResumePolicy;
  /** The command line that runs the sweep again (no credentials), for the parent's `cfa.command`. */
  command?: string;
}

export async function openSweepParent(
  store: TrackingStore,
  loaded: LoadedSweep,
  options: OpenSweepOptions = {},
): Promise<SweepParent> {
  const resume = options.resume ?? 'same-code';
  const source = await runSource();
  const experimentId = await resolveExperiment(store, loaded.sweep.name, {
    'cfa.reproduces': loaded.sweep.reproduces,
  });
  const key = sweepKey(loaded);
  const tags = {
    ...runSourceTags(source),
    [PARENT_TAGS.resume]: resume,
    ...(options.command ? { [PARENT_TAGS.command]: options.command } : {}),
  };
  const existing = options.fresh
    ? []
    : await searchAllRuns(store, {
        experimentIds: [experimentId],
        filter: `tags.\`${CFA_TAGS.sweepKey}\` = '${key}'`,
      });
  // the newest parent: a --fresh run started a new one, which later runs resume
  const parent = existing
    .filter((r) => !r.data.tags[MLFLOW_TAGS.parentRunId])
    .sort((a, b) => b.info.startTime - a.info.startTime)[0];
  const base = { experimentId, codeHash: source.codeHash, resume };
  if (parent) {
    // the parent says which code ran it last (its children say which code computed each number)
    await store.logBatch(parent.info.runId, { tags: Object.entries(tags).map(([k, value]) => ({ key: k, value })) });
    await store.updateRun({ runId: parent.info.runId, status: 'RUNNING' });
    return { ...base, parentRunId: parent.info.runId, resumed: true };
  }
  const run = await store.createRun({
    experimentId,
    runName: `${loaded.sweep.name} (${loaded.cells.length} cells)`,
    userId: source.user,
    tags: {
      ...tags,
      [CFA_TAGS.sweep]: loaded.sweep.name,
      [CFA_TAGS.sweepKey]: key,
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
      s.axes.map((a, i) => {
        const { kind, fields } = axisFields(a);
        return [`${i}.${kind}`, kind === 'cases' && 'cases' in a ? a.cases : fields];
      }),
    ),
  });
  await store.logBatch(run.info.runId, {
    params: Object.entries(params).map(([k, value]) => ({ key: k.replace(/[^/\w.\- :]/g, '_'), value })),
  });
  await store.logArtifact(run.info.runId, `sweep/${s.name}.yaml`, loaded.text);
  return { ...base, parentRunId: run.info.runId, resumed: false };
}

export async function childRuns(store: TrackingStore, experimentId: string, parentRunId: string): Promise<Run[]> {
  return searchAllRuns(store, {
    experimentIds: [experimentId],
    filter: `tags.\`${MLFLOW_TAGS.parentRunId}\` = '${parentRunId}'`,
  });
}

/**
 * The newest FINISHED child of each cell key that the policy accepts: computed by the code
 * `codeHash` (`same-code`), or by any code (`any-code`, the current code's run still preferred).
 */
export function finishedByCell(
  children: Run[],
  accept: { codeHash: string; resume: ResumePolicy } | undefined,
): Map<string, Run> {
  const out = new Map<string, Run>();
  const sameCode = (r: Run) => r.data.tags[CFA_TAGS.codeHash] === accept?.codeHash;
  const order = [...children].sort(
    (a, b) => Number(sameCode(a)) - Number(sameCode(b)) || a.info.startTime - b.info.startTime,
  );
  for (const run of order) {
    if (run.info.status !== 'FINISHED') continue;
    if (accept && accept.resume === 'same-code' && !sameCode(run)) continue;
    out.set(run.data.tags[CFA_TAGS.cellKey], run);
  }
  return out;
}

/** Cells that FINISHED only with other code than `codeHash`: a same-code resume runs them again. */
export function finishedWithOtherCode(children: Run[], codeHash: string): Set<string> {
  const other = finishedByCell(children, undefined);
  const same = finishedByCell(children, { codeHash, resume: 'same-code' });
  return new Set([...other.keys()].filter((k) => !same.has(k)));
}

/** Where each number of the table came from: cell, run, code hash and commit. */
export interface Provenance {
  cell: string;
  runId: string;
  codeHash: string;
  commit: string;
  dirty: boolean;
}

export async function comparisonRows(
  store: TrackingStore,
  loaded: LoadedSweep,
  parent: SweepParent,
): Promise<{ rows: CellRow[]; provenance: Provenance[] }> {
  const children = await childRuns(store, parent.experimentId, parent.parentRunId);
  const finished = finishedByCell(children, parent);
  const root = loaded.sweep.dataRoot ?? DEFAULT_SYNTHETIC_ROOT;
  const rows: CellRow[] = [];
  const provenance: Provenance[] = [];
  for (const cell of loaded.cells) {
    const run = finished.get(cell.key);
    if (run)
      provenance.push({
        cell: cell.name,
        runId: run.info.runId,
        codeHash: run.data.tags[CFA_TAGS.codeHash] ?? 'unknown',
        commit: run.data.tags[MLFLOW_TAGS.gitCommit] ?? '',
        dirty: run.data.tags[SOURCE_TAGS.dirty] === 'true',
      });
    const failed =
      !run && children.some((c) => c.data.tags[CFA_TAGS.cellKey] === cell.key && c.info.status === 'FAILED');
    rows.push({
      category: cell.category,
      kind: await categoryKind(root, cell.category),
      seed: cell.seed,
      assignments: cell.assignments,
      selection: sharedFields(cell.config).evaluation?.selection ?? 'last',
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
  return { rows, provenance };
}
