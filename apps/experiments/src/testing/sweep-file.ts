/**
 * A sweep file for tests, written where `loadSweep` accepts it: named for the sweep (a sweep's
 * name must match its file name).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';

export async function writeSweepFile(dir: string, sweep: { name: string } & Record<string, unknown>): Promise<string> {
  const file = join(dir, `${sweep.name}.yaml`);
  await writeFile(file, stringify(sweep));
  return file;
}
