import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CellResult } from '../run/run-cell';
import { RunConfigSchema } from '../run/run-config';

/**
 * A seed's finished run in `folder` (run-cell writes result.json last, atomically: where it exists the
 * run is complete) when it was made with this very config on this engine, else undefined — so a
 * stopped many-seed comparison goes on where it stopped instead of starting over. The stored config
 * is read through the schema first, so a run written in an older layout of the same settings (the
 * CFA fields under `cfa:`) still counts.
 */
export async function finishedRun(
  folder: string,
  config: CellResult['config'],
  engineName: string,
): Promise<CellResult | undefined> {
  let stored: CellResult;
  try {
    stored = JSON.parse(await readFile(join(folder, 'result.json'), 'utf8')) as CellResult;
  } catch {
    return undefined;
  }
  const parsed = RunConfigSchema.safeParse(stored.config);
  return parsed.success && JSON.stringify(parsed.data) === JSON.stringify(config) && stored.engine?.name === engineName
    ? { ...stored, config: parsed.data }
    : undefined;
}
