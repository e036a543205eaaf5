/**
 * After the cells: the comparison table from the child runs (printed, and logged on the parent
 * run as markdown and JSON), and the parent's final status.
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrackingStore } from '@cfa/tracking';
import { comparisonTable, type ComparisonTable } from '../report/comparison-table';
import type { LoadedSweep } from './load-sweep';
import { comparisonRows, type SweepParent } from './sweep-runs';

export async function finishSweep(
  store: TrackingStore,
  loaded: LoadedSweep,
  parent: SweepParent,
  outRoot: string,
): Promise<ComparisonTable> {
  const rows = await comparisonRows(store, loaded, parent);
  const table = comparisonTable({ rows, report: loaded.sweep.report });
  const header = `# ${loaded.sweep.name}: ${loaded.sweep.reproduces}\n\nMeans over categories and seeds; paper numbers (ImageNet weights, MVTec AD) beside ours.\n\n`;
  const markdown = `${header}${table.markdown}\n`;
  await mkdir(outRoot, { recursive: true });
  await writeFile(join(outRoot, 'comparison.md'), markdown);
  await store.logArtifact(parent.parentRunId, 'comparison.md', markdown);
  await store.logArtifact(
    parent.parentRunId,
    'comparison.json',
    `${JSON.stringify({ rows, table: table.records }, null, 2)}\n`,
  );
  await store.logBatch(parent.parentRunId, {
    tags: [
      { key: 'cfa.failed_cells', value: String(table.failed) },
      { key: 'cfa.missing_cells', value: String(table.missing) },
    ],
  });
  await store.updateRun({
    runId: parent.parentRunId,
    status: table.missing ? 'RUNNING' : 'FINISHED',
    endTime: Date.now(),
  });
  return table;
}
