import { mkdtemp, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendLines, withFileLock, writeFileAtomic } from './atomic-file';

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

  it('withFileLock runs holders one at a time, and breaks a stale lock', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'atomic-'));
    const lock = join(dir, '.lock');
    const order: string[] = [];
    const hold = (name: string) =>
      withFileLock(lock, async () => {
        order.push(`${name} in`);
        await new Promise((r) => setTimeout(r, 20));
        order.push(`${name} out`);
      });
    await Promise.all([hold('a'), hold('b'), hold('c')]);
    for (let i = 0; i < order.length; i += 2) expect(order[i + 1]).toBe(order[i].replace('in', 'out'));
    await writeFile(lock, '1');
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    expect(await withFileLock(lock, async () => 'taken over', { staleMs: 30_000 })).toBe('taken over');
    await writeFile(lock, '1');
    await expect(withFileLock(lock, async () => 'never', { timeoutMs: 100 })).rejects.toThrow(/still held/);
  });
});
