/**
 * An output folder that is written whole or not at all: everything goes into a hidden sibling
 * staging folder, which replaces the target only when the work succeeded. On an error the staging
 * folder is removed and the target is untouched, so a failed `predict` never leaves half its
 * outputs (or a mix of two runs') where a reader looks.
 *
 * @example
 * ```ts
 * await withStagedFolder('runs/predict/x', async (dir) => writeFile(join(dir, 'scores.csv'), csv));
 * ```
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Moves every file of `from` into `to` (existing files there are replaced, one atomic rename each). */
async function moveInto(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const e of await readdir(from, { withFileTypes: true })) {
    if (e.isDirectory()) await moveInto(join(from, e.name), join(to, e.name));
    else await rename(join(from, e.name), join(to, e.name));
  }
}

export async function withStagedFolder<T>(target: string, fill: (staging: string) => Promise<T>): Promise<T> {
  const staging = join(
    dirname(target),
    `.${basename(target)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  await mkdir(staging, { recursive: true });
  try {
    const result = await fill(staging);
    const exists = await stat(target).then(
      () => true,
      () => false,
    );
    if (exists) await moveInto(staging, target);
    else await rename(staging, target);
    return result;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
