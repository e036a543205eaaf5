import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listImages } from './list-images';

describe('listImages', () => {
  it('lists images under a folder, sorted, recursively, with unique names; skips other files and hidden ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'list-'));
    await mkdir(join(dir, 'line 2'));
    for (const f of ['b.png', 'a.png', 'a.JPG', 'notes.txt', '.hidden.png', 'line 2/c.jpeg', 'line 2_c.png'])
      await writeFile(join(dir, f), 'x');
    const names = (await listImages(dir)).map((i) => [i.path.slice(dir.length + 1), i.name]);
    expect(names).toEqual([
      ['a.JPG', 'a_jpg'],
      ['a.png', 'a_png'],
      ['b.png', 'b'],
      ['line 2/c.jpeg', 'line_2_c_jpeg'],
      ['line 2_c.png', 'line_2_c_png'],
    ]);
    expect(await listImages(join(dir, 'b.png'))).toEqual([{ path: join(dir, 'b.png'), name: 'b' }]);
  });

  it('follows a symbolic link to a folder; one that loops or leads nowhere is skipped and said, never silently', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'list-links-'));
    const camera = await mkdtemp(join(tmpdir(), 'camera-'));
    await writeFile(join(camera, 'shot.png'), 'x');
    await writeFile(join(dir, 'a.png'), 'x');
    await symlink(camera, join(dir, 'camera'));
    await symlink(dir, join(dir, 'back'));
    await symlink(join(dir, 'gone'), join(dir, 'dangling'));
    const lines: string[] = [];
    const names = (await listImages(dir, (l) => lines.push(l))).map((i) => i.name);
    expect(names).toEqual(['a', 'camera_shot']);
    expect(lines).toEqual([
      `${join(dir, 'back')}: skipped, a symbolic link to a folder already searched (a loop)`,
      `${join(dir, 'dangling')}: skipped, a symbolic link to nothing (ENOENT)`,
    ]);
  });

  it('names a missing path and a folder without images', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'list-empty-'));
    await writeFile(join(dir, 'readme.md'), 'x');
    await expect(listImages(join(dir, 'nope'))).rejects.toThrow(/nope: does not exist/);
    await expect(listImages(dir)).rejects.toThrow(/list-empty-\w+: no images in this folder/);
  });
});
