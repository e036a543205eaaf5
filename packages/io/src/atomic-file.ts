/**
 * File writes that never leave a half-written file for a reader (`mlflow ui` reading the store
 * while a sweep writes it) or after a crash:
 *
 * - `writeFileAtomic`: the content goes to a temp file beside the target's entity folder, then a
 *   `rename` swaps it in (atomic on POSIX). Temp files are placed where MLflow's file store never
 *   looks (the run or experiment folder itself, which MLflow reads only for `meta.yaml` and its
 *   named sub-folders), so a reader never mistakes one for a tag or a param. `durable` adds an
 *   fsync of the file before the rename and of its folder after it, for files whose loss or
 *   truncation would hide a run (meta.yaml) or poison later runs (feature-cache entries).
 * - `appendLines`: one `write` of whole lines in append mode; a torn last line left by a crash is
 *   cut off first, so the next line never glues onto it (MLflow would then fail to parse the metric).
 *
 * A failed write names the target, never the temp file (`<path>: cannot write (ENOSPC: no space
 * left on device)`), and the temp file is removed on every exit path, a signal included
 * (`removeOnExit`): none is left inside a folder that is later uploaded whole.
 *
 * @example
 * ```ts
 * await writeFileAtomic('/mlruns/1/abc/tags/mlflow.runName', 'cell 3', { tempDir: '/mlruns/1/abc' });
 * await appendLines('/mlruns/1/abc/metrics/loss', '1700000000000 0.25 3\n');
 * ```
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { removeOnExit } from './exit-cleanup';
import { WriteError } from './write-error';

export async function writeFileAtomic(
  path: string,
  content: string | Uint8Array,
  options: { tempDir?: string; durable?: boolean } = {},
): Promise<void> {
  await mkdir(dirname(path), { recursive: true }).catch((error: unknown) => {
    throw WriteError.of(path, error);
  });
  const tmp = join(options.tempDir ?? dirname(path), `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const forget = removeOnExit(tmp);
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(content);
      if (options.durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw WriteError.of(path, error);
  } finally {
    forget();
  }
  if (options.durable) await syncDirectory(dirname(path));
}

/** fsync of a folder, so a rename into it survives a power loss (POSIX; a no-op where unsupported). */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // some file systems refuse fsync on a folder; the file itself was synced
  } finally {
    await handle.close();
  }
}

/** Appends whole lines (`text` must end with '\n') with one write, after cutting a torn last line. */
export async function appendLines(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, 'a+');
  try {
    const { size } = await handle.stat();
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) {
        // a crash mid-append left a partial line: drop it (it was never acknowledged)
        const tailSize = Math.min(size, 1 << 16);
        const tail = Buffer.alloc(tailSize);
        await handle.read(tail, 0, tailSize, size - tailSize);
        const cut = tail.lastIndexOf(0x0a);
        await handle.truncate(cut < 0 ? (tailSize === size ? 0 : size - tailSize) : size - tailSize + cut + 1);
      }
    }
    const bytes = Buffer.from(text);
    let written = 0;
    while (written < bytes.length) written += (await handle.write(bytes, written)).bytesWritten;
  } finally {
    await handle.close();
  }
}
