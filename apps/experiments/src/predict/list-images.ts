/**
 * The images `predict` scores: one file, or every image under a folder (recursively, sorted, through
 * symbolic links to folders as well), each with a unique output name derived from its path. A
 * missing path or a folder without images is an error naming it, found before any work starts; a
 * link that loops or leads nowhere is skipped, and said.
 *
 * @example
 * ```ts
 * await listImages('shots/');  // [{ path: 'shots/a.png', name: 'a' }, { path: 'shots/line2/b.jpg', name: 'line2_b' }]
 * ```
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, extname, join, relative, sep } from 'node:path';
import { DatasetError, IMAGE_EXTENSIONS } from '@cfa/data';

export interface InputImage {
  path: string;
  /** Unique among the inputs, safe as a file name: the path under the folder, separators → `_`, extension dropped. */
  name: string;
}

/**
 * Image files under `dir`, sorted, sub-folders included — those reached through a symbolic link
 * too (a camera's folder linked in), each real folder once: a link back to a folder already on
 * the way is a loop, and a link that leads nowhere is skipped; both are said through `skip`.
 */
async function imagesUnder(
  dir: string,
  skip: (path: string, why: string) => void,
  seen: Set<string>,
): Promise<string[]> {
  seen.add(await realpath(dir));
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    let isDir = e.isDirectory();
    if (e.isSymbolicLink()) {
      const target = await stat(path).catch((error: NodeJS.ErrnoException) => error.code ?? 'unreadable');
      if (typeof target === 'string') {
        skip(path, target === 'ELOOP' ? 'a symbolic link that loops' : `a symbolic link to nothing (${target})`);
        continue;
      }
      isDir = target.isDirectory();
      if (isDir && seen.has(await realpath(path))) {
        skip(path, 'a symbolic link to a folder already searched (a loop)');
        continue;
      }
    }
    if (isDir) out.push(...(await imagesUnder(path, skip, seen)));
    else if (IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase())) out.push(path);
  }
  return out;
}

/** `log` hears of what is skipped under a folder (links that loop or lead nowhere). */
export async function listImages(input: string, log: (line: string) => void = () => undefined): Promise<InputImage[]> {
  const info = await stat(input).catch(() => undefined);
  if (!info) throw new DatasetError(input, 'does not exist (expected an image file or a folder of images)');
  const skip = (path: string, why: string) => log(`${path}: skipped, ${why}`);
  const paths = info.isDirectory() ? await imagesUnder(input, skip, new Set()) : [input];
  if (paths.length === 0)
    throw new DatasetError(
      input,
      `no images in this folder (looked for ${IMAGE_EXTENSIONS.join(', ')}, in sub-folders too)`,
    );
  const base = info.isDirectory() ? input : undefined;
  const stem = (p: string) => {
    const rel = base ? relative(base, p) : basename(p);
    return rel
      .slice(0, rel.length - extname(rel).length)
      .split(sep)
      .join('_')
      .replace(/[^\w.-]/g, '_');
  };
  const taken = new Map<string, number>();
  for (const p of paths) taken.set(stem(p), (taken.get(stem(p)) ?? 0) + 1);
  const used = new Set<string>();
  return paths.map((path) => {
    let name = stem(path);
    // a.png beside a.jpg: keep the extension; still taken: number it
    if (taken.get(name)! > 1) name = `${name}_${extname(path).slice(1).toLowerCase()}`;
    for (let i = 2; used.has(name); i++) name = `${stem(path)}_${i}`;
    used.add(name);
    return { path, name };
  });
}
