/**
 * After the cells: the comparison table from the child runs — printed, written to the sweep's
 * folder and logged on the parent run as markdown (with its legend), CSV (tidy, and one line per
 * cell run) and JSON — the per-category bar charts (`plots/<metric>-by-category.png`), which code
 * each number came from (a note under the table, the `provenance` list in comparison.json, the
 * parent's `cfa.code.hashes`), and the parent's final status.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '@cfa/io';
import type { TrackingStore } from '@cfa/tracking';
import { aggregateCells } from '../report/aggregate-cells';
import { categoryBarsSpec } from '../report/category-bars';
import { comparisonTable, type ComparisonTable } from '../report/comparison-table';
import { METRIC_COLUMNS } from '../report/metric-columns';
import { chartPng } from '../report/render-chart';
import type { LoadedSweep } from './load-sweep';
import { comparisonRows, PARENT_TAGS, type Provenance, type SweepParent } from './sweep-runs';

/** One line (or a few) saying which code computed the table's numbers. */
export function provenanceNote(provenance: Provenance[], current: string): string {
  if (!provenance.length) return 'Code: no finished cell yet.';
  const byHash = new Map<string, Provenance[]>();
  for (const p of provenance) byHash.set(p.codeHash, [...(byHash.get(p.codeHash) ?? []), p]);
  const describe = (hash: string, cells: Provenance[]) => {
    const commits = [
      ...new Set(cells.map((c) => `${c.commit.slice(0, 12) || 'no commit'}${c.dirty ? ' (dirty)' : ''}`)),
    ];
    return `code ${hash}${hash === current ? ' (this checkout)' : ''}, commit ${commits.join(', ')}`;
  };
  if (byHash.size === 1) {
    const [[hash, cells]] = [...byHash];
    return `Code: every number from ${describe(hash, cells)}.`;
  }
  const lines = [...byHash].map(
    ([hash, cells]) => `- ${describe(hash, cells)}: ${cells.map((c) => c.cell).join('; ')}`,
  );
  return `Code: numbers from ${byHash.size} code versions (resumed with --resume any-code):\n${lines.join('\n')}`;
}

export interface FinishedSweep extends ComparisonTable {
  /** Which code computed the numbers (`provenanceNote`). */
  note: string;
  /** Files written under the sweep's folder (and logged on the parent run). */
  artifacts: string[];
}

export async function finishSweep(
  store: TrackingStore,
  loaded: LoadedSweep,
  parent: SweepParent,
  outRoot: string,
  log: (line: string) => void = () => undefined,
): Promise<FinishedSweep> {
  const { sweep } = loaded;
  const { rows, provenance } = await comparisonRows(store, loaded, parent);
  const table = comparisonTable({ rows, report: sweep.report, axes: sweep.axes });
  const note = provenanceNote(provenance, parent.codeHash);
  const files = new Map<string, string | Uint8Array>();
  files.set(
    'comparison.md',
    `# ${sweep.name}: ${sweep.reproduces}\n\n${table.markdown}\n\n${table.legend.map((l) => `- ${l}`).join('\n')}\n\n${note}\n`,
  );
  files.set('comparison.csv', table.csv);
  files.set('cells.csv', table.cellsCsv);
  files.set('comparison.json', `${JSON.stringify({ rows, table: table.records, provenance }, null, 2)}\n`);
  const categories = [...new Set(rows.map((r) => r.category))];
  const stats = aggregateCells({
    rows,
    metrics: sweep.report.metrics,
    rowAxis: sweep.report.rows,
    colAxis: sweep.report.columns,
    perCategory: true,
  });
  for (const metric of sweep.report.metrics) {
    if (!stats.some((s) => s.metric === metric)) continue;
    const file = `plots/${metric}-by-category.png`;
    try {
      const spec = categoryBarsSpec({
        stats,
        metric,
        categories,
        rowAxis: sweep.report.rows,
        colAxis: sweep.report.columns,
        columnLabels: sweep.report.columnLabels,
        axes: sweep.axes,
        title: `${sweep.name}: ${METRIC_COLUMNS[metric].label} per category`,
      });
      files.set(file, await chartPng(spec));
    } catch (error) {
      log(`could not draw ${file}: ${(error as Error).message}`);
    }
  }
  for (const [file, content] of files) {
    await writeFileAtomic(join(outRoot, file), content);
    await store.logArtifact(parent.parentRunId, file, content);
  }
  await store.logBatch(parent.parentRunId, {
    tags: [
      { key: 'cfa.failed_cells', value: String(table.failed) },
      { key: 'cfa.missing_cells', value: String(table.missing) },
      { key: PARENT_TAGS.codeHashes, value: [...new Set(provenance.map((p) => p.codeHash))].join(',') },
    ],
  });
  await store.updateRun({
    runId: parent.parentRunId,
    status: table.missing ? 'RUNNING' : 'FINISHED',
    endTime: Date.now(),
  });
  return { ...table, note, artifacts: [...files.keys()] };
}
