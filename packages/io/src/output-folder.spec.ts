import { chmod, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOutputFolder, OutputFolderError } from './output-folder';

describe('checkOutputFolder', () => {
  it('accepts an existing folder and a path that can be created, and creates nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'out-'));
    await checkOutputFolder(dir, '--out');
    await checkOutputFolder(join(dir, 'a', 'b', 'c'), '--out');
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a file, a path through a file, and a folder it cannot write, naming the option and the path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'out-'));
    await writeFile(join(dir, 'result'), 'x');
    await expect(checkOutputFolder(join(dir, 'result'), '--out')).rejects.toThrow(
      /^--out .*\/result: is a file, expected a folder for the outputs$/,
    );
    await expect(checkOutputFolder(join(dir, 'result', 'run-1'), '--out')).rejects.toThrow(
      /^--out .*\/result\/run-1: .*\/result is a file, so the folder cannot be created$/,
    );
    await expect(checkOutputFolder(join(dir, 'result'), '--out')).rejects.toBeInstanceOf(OutputFolderError);
    if (process.getuid?.() !== 0) {
      // root writes anywhere, so the permission case runs only for other users
      await mkdir(join(dir, 'locked'));
      await chmod(join(dir, 'locked'), 0o500);
      await expect(checkOutputFolder(join(dir, 'locked', 'x'), '--out')).rejects.toThrow(/locked is not writable/);
    } else process.stderr.write('[io] not-writable case skipped: running as root, which may write anywhere\n');
  });
});
