/**
 * The MVTec AD folder layout (anomalib `data/image/mvtec.py`):
 *
 *   <root>/<category>/train/good/*.png
 *   <root>/<category>/test/<defect>/*.png          (`good` = normal)
 *   <root>/<category>/ground_truth/<defect>/<name>_mask.png   (none for `good`)
 *
 * `indexCategory` lists and checks the files (names sorted, so order is deterministic), skipping
 * dot-entries (macOS `._x.png` resource forks, `.DS_Store`, temp folders of an interrupted
 * generation); `checkCategoryFiles` reads every image's and mask's header and every mask's levels,
 * so a wrong-sized or non-binary mask fails before any training; `loadSample` decodes one image,
 * checks its mask, and applies the view.
 *
 * @example
 * ```ts
 * const index = await indexCategory({ root: '/data/mvtec', category: 'bottle' });
 * const sample = await loadSample({ ref: index.test[0], view: ViewSchema.parse({ kind: 'center-crop' }) });
 * ```
 */
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { decodeImage, decodeMask, readImageHeader } from './decode';
import { DatasetError } from './errors';
import { applyView } from './preprocess';
import type { SourceSize } from './view';
import type { Raster } from './raster';
import type { View } from './view';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp'];

export const MVTEC_TEXTURES = ['carpet', 'grid', 'leather', 'tile', 'wood'];
export const MVTEC_OBJECTS = [
  'bottle',
  'cable',
  'capsule',
  'hazelnut',
  'metal_nut',
  'pill',
  'screw',
  'toothbrush',
  'transistor',
  'zipper',
];

export interface SampleRef {
  /** `train/good/000`, `test/crack/003`. */
  id: string;
  split: 'train' | 'test';
  /** `good` or the defect folder. */
  defect: string;
  label: 0 | 1;
  imagePath: string;
  maskPath?: string;
}

export interface CategoryIndex {
  root: string;
  category: string;
  train: SampleRef[];
  test: SampleRef[];
}

export interface LoadedSample {
  ref: SampleRef;
  /** [size, size, 3], ImageNet-normalised. */
  image: Float32Array;
  /** [size, size], 0/1 (all 0 for good images). */
  mask: Uint8Array;
  height: number;
  width: number;
  /** The image file's own size (a non-square source is placed differently by a center-crop view). */
  source: SourceSize;
  /** sha256 of the image file bytes. */
  sourceHash: string;
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Names starting with a dot are never data: `._x.png` (macOS), `.DS_Store`, `.tmp-…` folders. */
const isHidden = (name: string) => name.startsWith('.');

async function entriesOf(dir: string): Promise<Dirent[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
  return entries.filter((e) => !isHidden(e.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Why an entry named like an image is not one, or '' when it is a file after all (a symbolic link
 * counts as what it points to): a folder, a link that loops or points nowhere, something else.
 */
async function notAnImageFile(path: string, entry: Dirent): Promise<string> {
  const target = await stat(path).then(
    (s) => s,
    (error: NodeJS.ErrnoException) => error.code ?? 'unreadable',
  );
  if (typeof target !== 'string') {
    if (target.isFile()) return '';
    return `is named like an image but is ${target.isDirectory() ? 'a folder' : 'not a regular file'}${entry.isSymbolicLink() ? ' (through a symbolic link)' : ''}; rename or remove it`;
  }
  if (target === 'ELOOP')
    return 'is a symbolic link that loops (it leads back to itself); remove it or point it at an image';
  if (target === 'ENOENT') return 'is a symbolic link to a file that does not exist; remove it or point it at an image';
  return `is named like an image but cannot be read (${target}); rename or remove it`;
}

/** Image files of a folder, sorted; an entry named like an image that is not a file is an error. */
async function imagesIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await entriesOf(dir)) {
    if (!IMAGE_EXTENSIONS.includes(extname(entry.name).toLowerCase())) continue;
    const path = join(dir, entry.name);
    if (!entry.isFile()) {
      const why = await notAnImageFile(path, entry);
      if (why) throw new DatasetError(path, why);
    }
    out.push(entry.name);
  }
  return out;
}

/** Category folders under a root (those with a train/ folder), dot-folders skipped. */
export async function listCategories(root: string): Promise<string[]> {
  const names = await readdir(root).catch(() => {
    throw new DatasetError(root, 'dataset root does not exist or cannot be read');
  });
  const out: string[] = [];
  for (const n of names.filter((n) => !isHidden(n)).sort()) if (await isDir(join(root, n, 'train'))) out.push(n);
  return out;
}

export async function indexCategory({ root, category }: { root: string; category: string }): Promise<CategoryIndex> {
  const dir = join(root, category);
  if (!(await isDir(dir))) {
    const existing = await listCategories(root);
    throw new DatasetError(
      dir,
      `category '${category}' does not exist; categories under ${root}: ${existing.join(', ') || '(none)'}`,
    );
  }
  const trainDir = join(dir, 'train', 'good');
  const trainNames = await imagesIn(trainDir);
  if (trainNames.length === 0) throw new DatasetError(trainDir, 'no training images (expected train/good/*.png)');
  const strip = (n: string) => basename(n, extname(n));
  const train: SampleRef[] = trainNames.map((n) => ({
    id: `train/good/${strip(n)}`,
    split: 'train',
    defect: 'good',
    label: 0,
    imagePath: join(trainDir, n),
  }));
  const testRoot = join(dir, 'test');
  if (!(await isDir(testRoot)))
    throw new DatasetError(testRoot, 'no test folder (expected test/good and test/<defect>)');
  const test: SampleRef[] = [];
  for (const defect of (await entriesOf(testRoot)).map((e) => e.name)) {
    if (!(await isDir(join(testRoot, defect)))) continue;
    for (const n of await imagesIn(join(testRoot, defect))) {
      const ref: SampleRef = {
        id: `test/${defect}/${strip(n)}`,
        split: 'test',
        defect,
        label: defect === 'good' ? 0 : 1,
        imagePath: join(testRoot, defect, n),
      };
      if (ref.label === 1) {
        const maskPath = join(dir, 'ground_truth', defect, `${strip(n)}_mask.png`);
        if (
          !(await stat(maskPath).then(
            (s) => s.isFile(),
            () => false,
          ))
        ) {
          throw new DatasetError(ref.imagePath, `defect image has no mask: expected ${maskPath}`);
        }
        ref.maskPath = maskPath;
      }
      test.push(ref);
    }
  }
  if (test.length === 0) throw new DatasetError(testRoot, 'no test images');
  return { root, category, train, test };
}

export interface CategoryFilesReport {
  images: number;
  masks: number;
}

/**
 * Reads every image's header and every mask (small, binary) of an index, with bounded concurrency:
 * unreadable headers, masks whose size differs from their image's, and masks that are not binary
 * are found here — before any training — and reported together (the first 10), each naming its
 * file. Pixels of the images are decoded later, when they are embedded.
 */
export async function checkCategoryFiles(
  index: CategoryIndex,
  options: { concurrency?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<CategoryFilesReport> {
  const refs = [...index.train, ...index.test];
  const problems: string[] = [];
  let masks = 0,
    next = 0,
    done = 0;
  const check = async (ref: SampleRef) => {
    const image = await readImageHeader(ref.imagePath);
    if (!ref.maskPath) return;
    masks++;
    const mask = await decodeMask(ref.maskPath);
    if (mask.width !== image.width || mask.height !== image.height)
      throw new DatasetError(
        ref.maskPath,
        `mask is ${mask.width}×${mask.height} but its image ${ref.imagePath} is ${image.width}×${image.height}`,
      );
  };
  const worker = async () => {
    while (next < refs.length) {
      const ref = refs[next++];
      await check(ref).catch((error: Error) => problems.push(error.message));
      options.onProgress?.(++done, refs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, refs.length) }, worker));
  if (problems.length) {
    problems.sort();
    const shown = problems.slice(0, 10).map((p) => `  ✖ ${p}`);
    if (problems.length > 10) shown.push(`  … ${problems.length - 10} more`);
    throw new DatasetError(
      join(index.root, index.category),
      `${problems.length} file problem(s) found before training:\n${shown.join('\n')}`,
    );
  }
  return { images: refs.length, masks };
}

export async function loadSample({ ref, view }: { ref: SampleRef; view: View }): Promise<LoadedSample> {
  let bytes: Buffer;
  try {
    bytes = await readFile(ref.imagePath);
  } catch (error) {
    throw new DatasetError(
      ref.imagePath,
      `cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const image = await decodeImage(ref.imagePath);
  let mask: Raster<Uint8Array>;
  if (ref.maskPath) {
    mask = await decodeMask(ref.maskPath);
    if (mask.width !== image.width || mask.height !== image.height) {
      throw new DatasetError(
        ref.maskPath,
        `mask is ${mask.width}×${mask.height} but its image ${ref.imagePath} is ${image.width}×${image.height}`,
      );
    }
  } else {
    mask = { data: new Uint8Array(image.width * image.height), width: image.width, height: image.height, channels: 1 };
  }
  const viewed = applyView({ image, mask, view, sampleId: ref.id });
  return {
    source: { width: image.width, height: image.height },
    ref,
    image: viewed.image,
    mask: viewed.mask,
    height: viewed.size,
    width: viewed.size,
    sourceHash: createHash('sha256').update(bytes).digest('hex'),
  };
}

/** Loads many samples with bounded concurrency, keeping their order. */
export async function loadSamples(
  refs: SampleRef[],
  view: View,
  options: { concurrency?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<LoadedSample[]> {
  const out: LoadedSample[] = new Array(refs.length);
  let next = 0,
    done = 0;
  const worker = async () => {
    while (next < refs.length) {
      const i = next++;
      out[i] = await loadSample({ ref: refs[i], view });
      options.onProgress?.(++done, refs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, refs.length) }, worker));
  return out;
}

export type CategoryKind = 'texture' | 'object' | 'unknown';

/** Texture or object: MVTec's 15 are known; synthetic categories say so in their manifest. */
export async function categoryKind(root: string, category: string): Promise<CategoryKind> {
  if (MVTEC_TEXTURES.includes(category)) return 'texture';
  if (MVTEC_OBJECTS.includes(category)) return 'object';
  try {
    const manifest = JSON.parse(await readFile(join(root, category, 'manifest.json'), 'utf8')) as { kind?: string };
    return manifest.kind === 'texture' || manifest.kind === 'object' ? manifest.kind : 'unknown';
  } catch {
    return 'unknown';
  }
}
