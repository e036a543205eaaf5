import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendLines, writeFileAtomic } from './atomic-file';
import { WriteError } from './write-error';

describe('atomic file writes', () => {
  it('writeFileAtomic replaces the whole file and leaves no temp file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'atomic-'));
    await writeFileAtomic(join(dir, 'tags', 'a', 'b'), 'one', { tempDir: dir });
    await writeFileAtomic(join(dir, 'tags', 'a', 'b'), 'two', { tempDir: dir, durable: true });
    expect(await readFile(join(dir, 'tags', 'a', 'b'), 'utf8')).toBe('two');
    expect(await readdir(dir)).toEqual(['tags']);
  });

  it('appendLines cuts a torn last line before appending', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'atomic-'));
    const file = join(dir, 'm');
    await writeFile(file, '1 0.5 0\n2 0.');
    await appendLines(file, '3 0.25 2\n');
    expect(await readFile(file, 'utf8')).toBe('1 0.5 0\n3 0.25 2\n');
    await writeFile(file, 'torn');
    await appendLines(file, '4 1.0 0\n');
    expect(await readFile(file, 'utf8')).toBe('4 1.0 0\n');
  });

  it('a failed write names the target (not its temp file) and leaves no temp file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'atomic-'));
    await mkdir(join(dir, 'model.onnx'));
    const error = await writeFileAtomic(join(dir, 'model.onnx'), 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WriteError);
    expect((error as Error).message).toBe(`${join(dir, 'model.onnx')}: cannot write: it is a folder (EISDIR)`);
    expect(await readdir(dir)).toEqual(['model.onnx']);
  });
});
