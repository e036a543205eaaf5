import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from './decode';
import { categoryKind, checkCategoryFiles, indexCategory, listCategories, loadSample, loadSamples } from './mvtec';
import { IMAGENET_MEAN, IMAGENET_STD } from './preprocess';
import { ViewSchema } from './view';

const view = ViewSchema.parse({ kind: 'center-crop', resize: 32, crop: 28 });

async function png(path: string, width: number, height: number, channels: 1 | 3, value: number): Promise<void> {
  await pngOf(path, width, height, channels, new Uint8Array(width * height * channels).fill(value));
}

async function pngOf(path: string, width: number, height: number, channels: 1 | 3, data: Uint8Array): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, await encodePng({ data, width, height, channels }));
}

/** A 40×40 mask whose left half holds `level` (the rest 0). */
const halfMask = (level: number) => Uint8Array.from({ length: 1600 }, (_, i) => (i % 40 < 20 ? level : 0));

/** A tiny MVTec-layout category: 2 train, 1 good + 1 crack test image, crack mask. */
async function makeCategory(root: string, name = 'widget'): Promise<string> {
  const dir = join(root, name);
  await png(join(dir, 'train/good/000.png'), 40, 40, 3, 128);
  await png(join(dir, 'train/good/001.png'), 40, 40, 3, 120);
  await png(join(dir, 'test/good/000.png'), 40, 40, 3, 128);
  await png(join(dir, 'test/crack/000.png'), 40, 40, 3, 60);
  await png(join(dir, 'ground_truth/crack/000_mask.png'), 40, 40, 1, 255);
  return dir;
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mvtec-'));
  await makeCategory(root);
});

describe('indexCategory', () => {
  it('lists train/good and test/<defect> in sorted order with masks for defects only', async () => {
    const index = await indexCategory({ root, category: 'widget' });
    expect(index.train.map((r) => r.id)).toEqual(['train/good/000', 'train/good/001']);
    expect(index.test.map((r) => [r.id, r.label, !!r.maskPath])).toEqual([
      ['test/crack/000', 1, true],
      ['test/good/000', 0, false],
    ]);
    expect(await listCategories(root)).toEqual(['widget']);
  });

  it('names a category that does not exist and lists the ones that do', async () => {
    await expect(indexCategory({ root, category: 'bottle' })).rejects.toThrow(
      /bottle: category 'bottle' does not exist; categories under .*: widget/,
    );
  });

  it('names an empty train folder', async () => {
    const r = await mkdtemp(join(tmpdir(), 'mvtec-'));
    await mkdir(join(r, 'empty/train/good'), { recursive: true });
    await expect(indexCategory({ root: r, category: 'empty' })).rejects.toThrow(
      /empty\/train\/good: no training images/,
    );
  });

  it('names a defect image whose mask is missing, with the expected mask path', async () => {
    const r = await mkdtemp(join(tmpdir(), 'mvtec-'));
    const dir = await makeCategory(r, 'nomask');
    await rm(join(dir, 'ground_truth/crack/000_mask.png'));
    await expect(indexCategory({ root: r, category: 'nomask' })).rejects.toThrow(
      /test\/crack\/000\.png: defect image has no mask: expected .*ground_truth\/crack\/000_mask\.png/,
    );
  });
});

describe('indexing skips what is not data', () => {
  it('skips dot-entries: macOS ._ files, .DS_Store, hidden defect folders and .tmp- category folders', async () => {
    const r = await mkdtemp(join(tmpdir(), 'mvtec-'));
    const dir = await makeCategory(r, 'dotty');
    await writeFile(join(dir, 'train/good/._000.png'), Buffer.from([0, 5, 22, 7, 1, 2])); // an AppleDouble file
    await writeFile(join(dir, 'train/good/.DS_Store'), 'x');
    await png(join(dir, 'test/.hidden/000.png'), 40, 40, 3, 1);
    await mkdir(join(r, '.tmp-weave-12345/train/good'), { recursive: true });
    const index = await indexCategory({ root: r, category: 'dotty' });
    expect(index.train.map((t) => t.id)).toEqual(['train/good/000', 'train/good/001']);
    expect(index.test.map((t) => t.id)).toEqual(['test/crack/000', 'test/good/000']);
    expect(await listCategories(r)).toEqual(['dotty']);
  });

  it('names a folder named like an image, a symbolic link that loops and one to nothing; a link to an image is one', async () => {
    const r = await mkdtemp(join(tmpdir(), 'mvtec-'));
    const dir = await makeCategory(r, 'folder');
    await mkdir(join(dir, 'train/good/x.png'));
    await expect(indexCategory({ root: r, category: 'folder' })).rejects.toThrow(
      /train\/good\/x\.png: is named like an image but is a folder; rename or remove it/,
    );
    await rm(join(dir, 'train/good/x.png'), { recursive: true });
    await symlink('loop.png', join(dir, 'train/good/loop.png'));
    await expect(indexCategory({ root: r, category: 'folder' })).rejects.toThrow(
      /train\/good\/loop\.png: is a symbolic link that loops/,
    );
    await rm(join(dir, 'train/good/loop.png'));
    await symlink('gone.png', join(dir, 'train/good/dangling.png'));
    await expect(indexCategory({ root: r, category: 'folder' })).rejects.toThrow(
      /dangling\.png: is a symbolic link to a file that does not exist/,
    );
    await rm(join(dir, 'train/good/dangling.png'));
    await symlink(join(dir, 'train/good/000.png'), join(dir, 'train/good/002.png'));
    const index = await indexCategory({ root: r, category: 'folder' });
    expect(index.train.map((t) => t.id)).toContain('train/good/002');
  });
});

describe('masks: 0/255 and 0/1 alike, anything else refused', () => {
  it.each([
    ['0/255 (MVTec AD)', 255],
    ['0/1 (VisA)', 1],
    ['0/128', 128],
  ])('reads a %s mask as the same defect pixels', async (_, level) => {
    const r = await mkdtemp(join(tmpdir(), 'mvtec-'));
    const dir = await makeCategory(r, 'masks');
    await pngOf(join(dir, 'ground_truth/crack/000_mask.png'), 40, 40, 1, halfMask(level));
    const index = await indexCategory({ root: r, category: 'masks' });
    const sample = await loadSample({ ref: index.test[0], view: ViewSchema.parse({ kind: 'resize', size: 40 }) });
    expect(Array.from(sample.mask)).toEqual(Array.from(halfMask(1)));
  });

  it('refuses a mask with more than one defect level, naming the levels', async () => {
    const r = await mkdtemp(join(tmpdir(), 'mvtec-'));
    const dir = await makeCategory(r, 'grey');
    const grey = halfMask(255);
    grey[0] = 1;
    grey[1] = 128;
    await pngOf(join(dir, 'ground_truth/crack/000_mask.png'), 40, 40, 1, grey);
    const index = await indexCategory({ root: r, category: 'grey' });
    await expect(loadSample({ ref: index.test[0], view })).rejects.toThrow(
      /000_mask\.png: mask is not binary: it holds the levels 0, 1, 128, 255; expected 0 and one defect level \(0\/255 as MVTec AD, or 0\/1 as VisA\)/,
    );
  });
});

describe('checkCategoryFiles: the whole index before training', () => {
  it('passes a sound category and counts its files', async () => {
    const index = await indexCategory({ root, category: 'widget' });
    expect(await checkCategoryFiles(index)).toEqual({ images: 4, masks: 1 });
  });

  it('finds a wrong-sized mask, a non-binary one and an unreadable image together, each by name', async () => {
    const r = await mkdtemp(join(tmpdir(), 'mvtec-'));
    const dir = await makeCategory(r, 'broken');
    await png(join(dir, 'test/crack/001.png'), 40, 40, 3, 60);
    await png(join(dir, 'test/crack/002.png'), 40, 40, 3, 60);
    await png(join(dir, 'ground_truth/crack/000_mask.png'), 20, 40, 1, 255);
    const grey = halfMask(255);
    grey[0] = 7;
    await pngOf(join(dir, 'ground_truth/crack/001_mask.png'), 40, 40, 1, grey);
    await png(join(dir, 'ground_truth/crack/002_mask.png'), 40, 40, 1, 255);
    await writeFile(join(dir, 'train/good/001.png'), 'not an image');
    const index = await indexCategory({ root: r, category: 'broken' });
    const error = await checkCategoryFiles(index).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/broken: 3 file problem\(s\) found before training:/);
    expect((error as Error).message).toMatch(/000_mask\.png: mask is 20×40 but its image .*000\.png is 40×40/);
    expect((error as Error).message).toMatch(/001_mask\.png: mask is not binary: it holds the levels 0, 7, 255/);
    expect((error as Error).message).toMatch(/train\/good\/001\.png: cannot read the image header/);
  });
});

describe('loadSample', () => {
  it('resizes, crops and ImageNet-normalises; the mask follows; the hash is of the file bytes', async () => {
    const index = await indexCategory({ root, category: 'widget' });
    const [crack, good] = await loadSamples(index.test, view);
    expect([crack.height, crack.width, crack.image.length]).toEqual([28, 28, 28 * 28 * 3]);
    // a solid 60/255 image → (60/255 − mean) / std in each channel
    for (let c = 0; c < 3; c++) expect(crack.image[c]).toBeCloseTo((60 / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c], 5);
    expect(crack.mask.every((v) => v === 1)).toBe(true);
    expect(good.mask.every((v) => v === 0)).toBe(true);
    expect(crack.sourceHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names a corrupt PNG (random bytes) and a truncated one', async () => {
    const r = await mkdtemp(join(tmpdir(), 'mvtec-'));
    const dir = await makeCategory(r, 'bad');
    await writeFile(join(dir, 'train/good/000.png'), Buffer.from('definitely not a png file at all'));
    const good = await readFile(join(dir, 'train/good/001.png'));
    await writeFile(join(dir, 'train/good/001.png'), good.subarray(0, Math.floor(good.length / 2)));
    const index = await indexCategory({ root: r, category: 'bad' });
    await expect(loadSample({ ref: index.train[0], view })).rejects.toThrow(
      /train\/good\/000\.png: cannot decode image/,
    );
    await expect(loadSample({ ref: index.train[1], view })).rejects.toThrow(
      /train\/good\/001\.png: cannot decode image/,
    );
  });

  it('names a mask whose size differs from its image, with both sizes', async () => {
    const r = await mkdtemp(join(tmpdir(), 'mvtec-'));
    const dir = await makeCategory(r, 'size');
    await png(join(dir, 'ground_truth/crack/000_mask.png'), 20, 40, 1, 255);
    const index = await indexCategory({ root: r, category: 'size' });
    await expect(loadSample({ ref: index.test[0], view })).rejects.toThrow(
      /000_mask\.png: mask is 20×40 but its image .*test\/crack\/000\.png is 40×40/,
    );
  });
});

describe('categoryKind', () => {
  it('knows MVTec names and reads synthetic manifests', async () => {
    expect(await categoryKind(root, 'carpet')).toBe('texture');
    expect(await categoryKind(root, 'screw')).toBe('object');
    expect(await categoryKind(root, 'widget')).toBe('unknown');
  });
});
