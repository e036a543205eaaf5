/**
 * The images `predict` scores: one file, or every image under a folder (recursively, sorted), each
 * with a unique output name derived from its path. A missing path or a folder without images is
 * an error naming it, found before any work starts.
 *
 * @example
 * ```ts
 * await listImages('shots/');  // [{ path: 'shots/a.png', name: 'a' }, { path: 'shots/line2/b.jpg', name: 'line2_b' }]
 * ```
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative, sep } from 'node:path';
import { DatasetError, IMAGE_EXTENSIONS } from '@cfa/data';

export interface InputImage {
  path: string;
  /** Unique among the inputs, safe as a file name: the path under the folder, separators → `_`, extension dropped. */
  name: string;
}

async function imagesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await imagesUnder(path)));
    else if (IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase())) out.push(path);
  }
  return out;
}

export async function listImages(input: string): Promise<InputImage[]> {
  const info = await stat(input).catch(() => undefined);
  if (!info) throw new DatasetError(input, 'does not exist (expected an image file or a folder of images)');
  const paths = info.isDirectory() ? await imagesUnder(input) : [input];
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
