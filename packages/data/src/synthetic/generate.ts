/**
 * The embedded default dataset: a deterministic synthetic dataset written in the MVTec AD layout,
 * so the whole pipeline runs with no download. Same config → byte-identical files.
 *
 * Each category is written into a temporary folder (`.tmp-<category>-<pid>`) and renamed into
 * place, so an interrupted generation never leaves a half category (the loader skips dot-folders,
 * and the next generation removes those whose process is gone). A folder written by an older
 * generator version with the same config is regenerated (reported in `regenerated`); one with a
 * different config, or without our manifest, is never overwritten unless asked.
 *
 * @example
 * ```ts
 * const { generated } = await ensureSyntheticDataset({ root: 'data/synthetic' });
 * ```
 */
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { createRng } from '@cfa/tensor-runtime';
import { writeFileAtomic } from '@cfa/io';
import { encodePng } from '../decode';
import { DatasetError } from '../errors';
import { toRgb8 } from './canvas';
import { SYNTHETIC_SETS, syntheticCategory } from './categories';
import type { SyntheticCategory } from './category-types';
import type { Pose } from './pose';

/**
 * 2: the standard set (15 categories, subtle defects) became the default; classic categories
 * render as in version 1, but their folders are regenerated too (a new manifest).
 */
export const SYNTHETIC_GENERATOR_VERSION = 2;

export const SyntheticConfigSchema = z.strictObject({
  /** Category names of either set (`SYNTHETIC_SETS`); default the standard set. */
  categories: z.array(z.string()).default([...SYNTHETIC_SETS.standard]),
  seed: z.number().int().nonnegative().default(0),
  imageSize: z.number().int().min(32).max(1024).default(256),
  trainCount: z.number().int().positive().default(40),
  testGoodCount: z.number().int().positive().default(12),
  /** Split evenly over the category's defect types (at least one each). */
  testDefectCount: z.number().int().positive().default(24),
});
export type SyntheticConfig = z.infer<typeof SyntheticConfigSchema>;
export type SyntheticConfigInput = z.input<typeof SyntheticConfigSchema>;

interface Manifest {
  generator: 'cfa-synthetic';
  version: number;
  category: string;
  kind: string;
  description: string;
  grayscale: boolean;
  config: Omit<SyntheticConfig, 'categories'>;
  defects: string[];
}

function manifestFor(category: SyntheticCategory, config: SyntheticConfig): Manifest {
  const { categories: _unused, ...rest } = config;
  return {
    generator: 'cfa-synthetic',
    version: SYNTHETIC_GENERATOR_VERSION,
    category: category.name,
    kind: category.kind,
    description: category.description,
    grayscale: category.grayscale,
    config: rest,
    defects: category.defects,
  };
}

async function readManifest(dir: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

const pad = (i: number) => String(i).padStart(3, '0');

/** The random stream a category's images are drawn from (each image forks its own). */
const categoryRng = (category: SyntheticCategory, config: Pick<SyntheticConfig, 'seed'>) =>
  createRng(config.seed).fork(`synthetic:${category.name}`);

/**
 * Where the object lies in one normal image of the generated dataset (`train/<index>` or
 * `test/good/<index>`, as written by `generateSyntheticDataset` with `config`): centre in pixels of
 * the generated image, turn in radians. Undefined for textures. What a diagnostic compares a
 * learnt alignment with (tools/pictures/fyd-alignment.ts).
 */
export function syntheticNormalPose(options: {
  category: string;
  split: 'train' | 'test/good';
  index: number;
  config?: SyntheticConfigInput;
}): Pose | undefined {
  const category = syntheticCategory(options.category);
  const config = SyntheticConfigSchema.parse(options.config ?? {});
  return category.pose?.(categoryRng(category, config).fork(`${options.split}/${options.index}`), config.imageSize);
}

async function writeCategory(dir: string, category: SyntheticCategory, config: SyntheticConfig): Promise<void> {
  const size = config.imageSize;
  const rng = categoryRng(category, config);
  const writeImage = async (path: string, rgb: Uint8Array) =>
    writeFileAtomic(path, await encodePng({ data: rgb, width: size, height: size, channels: 3 }));
  await mkdir(join(dir, 'train', 'good'), { recursive: true });
  for (let i = 0; i < config.trainCount; i++) {
    await writeImage(
      join(dir, 'train', 'good', `${pad(i)}.png`),
      toRgb8(category.render(rng.fork(`train/${i}`), size).canvas),
    );
  }
  await mkdir(join(dir, 'test', 'good'), { recursive: true });
  for (let i = 0; i < config.testGoodCount; i++) {
    await writeImage(
      join(dir, 'test', 'good', `${pad(i)}.png`),
      toRgb8(category.render(rng.fork(`test/good/${i}`), size).canvas),
    );
  }
  const perType = Math.max(1, Math.round(config.testDefectCount / category.defects.length));
  for (const defect of category.defects) {
    await mkdir(join(dir, 'test', defect), { recursive: true });
    await mkdir(join(dir, 'ground_truth', defect), { recursive: true });
    for (let i = 0; i < perType; i++) {
      const { image, mask } = category.defective(rng.fork(`test/${defect}/${i}`), size, defect);
      await writeImage(join(dir, 'test', defect, `${pad(i)}.png`), toRgb8(image.canvas));
      const maskBytes = Uint8Array.from(mask, (v) => (v ? 255 : 0));
      await writeFileAtomic(
        join(dir, 'ground_truth', defect, `${pad(i)}_mask.png`),
        await encodePng({ data: maskBytes, width: size, height: size, channels: 1 }),
      );
    }
  }
  await writeFileAtomic(join(dir, 'manifest.json'), `${JSON.stringify(manifestFor(category, config), null, 2)}\n`);
}

export interface GenerateOptions extends SyntheticConfigInput {
  root: string;
  /** Replace a category generated with a different config. */
  overwrite?: boolean;
  onProgress?: (category: string, done: number, total: number) => void;
}

export interface GenerateResult {
  root: string;
  categories: string[];
  /** Categories written now (the others already matched). */
  written: string[];
  /** Of those, the folders an older generator version had written (same config): replaced. */
  regenerated: { category: string; fromVersion: number }[];
  generated: boolean;
}

/** Whether a process with this id runs (EPERM: it does, under another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `.tmp-<category>-<pid>` folders left by generations that were killed; returns their names. */
async function removeStaleTempFolders(root: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const match = /^\.tmp-.+-(\d+)$/.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    // this process's own folder is replaced below; another live process may be writing its own
    if (pid !== process.pid && processAlive(pid)) continue;
    await rm(join(root, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Writes every category whose manifest differs from the config; leaves matching ones alone. */
export async function ensureSyntheticDataset(options: GenerateOptions): Promise<GenerateResult> {
  const { root, overwrite = false, onProgress, ...rest } = options;
  const config = SyntheticConfigSchema.parse(rest);
  const written: string[] = [];
  const regenerated: GenerateResult['regenerated'] = [];
  await mkdir(root, { recursive: true });
  await removeStaleTempFolders(root);
  for (const [k, name] of config.categories.entries()) {
    const category = syntheticCategory(name);
    const dir = join(root, name);
    const existing = await readManifest(dir);
    const wanted = manifestFor(category, config);
    if (existing && JSON.stringify(existing) === JSON.stringify(wanted)) continue;
    // a folder of an older generator with the same config is our own output, never the user's:
    // it is regenerated (and reported), since its images are not what this version draws
    const outdated =
      existing?.generator === 'cfa-synthetic' &&
      existing.version !== SYNTHETIC_GENERATOR_VERSION &&
      JSON.stringify(existing.config) === JSON.stringify(wanted.config);
    if (existing && !overwrite && !outdated) {
      throw new DatasetError(
        join(dir, 'manifest.json'),
        existing.version === SYNTHETIC_GENERATOR_VERSION
          ? `holds a synthetic dataset generated with a different config (${JSON.stringify(existing.config)}); pass overwrite to replace it, or use another root`
          : `holds a synthetic dataset of generator version ${existing.version ?? '?'} with a different config (${JSON.stringify(existing.config)}); this is version ${SYNTHETIC_GENERATOR_VERSION}: pass overwrite to replace it, or use another root`,
      );
    }
    if (
      !existing &&
      (await readFile(join(dir, 'train'), 'utf8').then(
        () => true,
        (e: NodeJS.ErrnoException) => e.code === 'EISDIR',
      ))
    ) {
      throw new DatasetError(
        dir,
        'exists and is not a synthetic category (no manifest.json); refusing to overwrite it',
      );
    }
    const tmp = join(root, `.tmp-${name}-${process.pid}`);
    await rm(tmp, { recursive: true, force: true });
    try {
      await writeCategory(tmp, category, config);
      await rm(dir, { recursive: true, force: true });
      await rename(tmp, dir);
    } catch (error) {
      await rm(tmp, { recursive: true, force: true });
      throw error;
    }
    written.push(name);
    if (outdated) regenerated.push({ category: name, fromVersion: existing.version });
    onProgress?.(name, k + 1, config.categories.length);
  }
  return { root, categories: config.categories, written, regenerated, generated: written.length > 0 };
}

/** Always writes (replacing what is there): for tools and tests. */
export async function generateSyntheticDataset(options: GenerateOptions): Promise<GenerateResult> {
  return ensureSyntheticDataset({ ...options, overwrite: true });
}
