/**
 * After the cells: the comparison table from the child runs (printed, and logged on the parent
 * run as markdown and JSON), which code each number came from (a note under the table, the
 * `provenance` list in comparison.json, the parent's `cfa.code.hashes`), and the parent's final
 * status.
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrackingStore } from '@cfa/tracking';
import { comparisonTable, type ComparisonTable } from '../report/comparison-table';
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

export async function finishSweep(
  store: TrackingStore,
  loaded: LoadedSweep,
  parent: SweepParent,
  outRoot: string,
): Promise<ComparisonTable & { note: string }> {
  const { rows, provenance } = await comparisonRows(store, loaded, parent);
  const table = comparisonTable({ rows, report: loaded.sweep.report });
  const header = `# ${loaded.sweep.name}: ${loaded.sweep.reproduces}\n\nMeans over categories and seeds; paper numbers (ImageNet weights, MVTec AD) beside ours.\n\n`;
  const note = provenanceNote(provenance, parent.codeHash);
  const markdown = `${header}${table.markdown}\n\n${note}\n`;
  await mkdir(outRoot, { recursive: true });
  await writeFile(join(outRoot, 'comparison.md'), markdown);
  await store.logArtifact(parent.parentRunId, 'comparison.md', markdown);
  await store.logArtifact(
    parent.parentRunId,
    'comparison.json',
    `${JSON.stringify({ rows, table: table.records, provenance }, null, 2)}\n`,
  );
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
  return { ...table, note };
}
