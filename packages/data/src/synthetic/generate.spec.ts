import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { categoryKind, indexCategory, loadSamples } from '../mvtec';
import { ViewSchema } from '../view';
import { ensureSyntheticDataset, generateSyntheticDataset } from './generate';

const small = { imageSize: 64, trainCount: 3, testGoodCount: 2, testDefectCount: 4 };

async function digest(dir: string): Promise<string> {
  const h = createHash('sha256');
  const walk = async (d: string): Promise<void> => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else h.update(e.name).update(await readFile(p));
    }
  };
  await walk(dir);
  return h.digest('hex');
}

describe('synthetic dataset', () => {
  it('writes masks as 1-channel grayscale PNGs, as MVTec AD does (the reference loader stacks them as [1, H, W])', async () => {
    const root = await mkdtemp(join(tmpdir(), 'synth-gray-'));
    await generateSyntheticDataset({ root, categories: ['disc'], ...small });
    const defect = (await readdir(join(root, 'disc', 'ground_truth')))[0];
    const file = join(root, 'disc', 'ground_truth', defect, '000_mask.png');
    const { default: sharp } = await import('sharp');
    expect((await sharp(file).metadata()).channels).toBe(1);
  });

  it('writes the MVTec layout for 2 textures and 2 objects; masks are non-empty exactly for defects', async () => {
    const root = await mkdtemp(join(tmpdir(), 'synth-'));
    const result = await generateSyntheticDataset({ root, ...small });
    expect(result.categories).toEqual(['weave', 'marble', 'disc', 'nut']);
    expect(await Promise.all(result.categories.map((c) => categoryKind(root, c)))).toEqual([
      'texture',
      'texture',
      'object',
      'object',
    ]);
    const view = ViewSchema.parse({ kind: 'resize', size: 64 });
    for (const category of result.categories) {
      const index = await indexCategory({ root, category });
      expect(index.train).toHaveLength(3);
      expect(new Set(index.test.map((r) => r.defect)).size).toBe(5);
      const samples = await loadSamples(index.test, view);
      for (const s of samples) {
        const on = s.mask.reduce((a, b) => a + b, 0);
        if (s.ref.label) expect(on, s.ref.id).toBeGreaterThan(5);
        else expect(on).toBe(0);
      }
    }
  });

  it('is deterministic: byte-identical for one seed, different for another', async () => {
    const a = await mkdtemp(join(tmpdir(), 'synth-'));
    const b = await mkdtemp(join(tmpdir(), 'synth-'));
    const c = await mkdtemp(join(tmpdir(), 'synth-'));
    await generateSyntheticDataset({ root: a, ...small, categories: ['disc'] });
    await generateSyntheticDataset({ root: b, ...small, categories: ['disc'] });
    await generateSyntheticDataset({ root: c, ...small, categories: ['disc'], seed: 1 });
    expect(await digest(a)).toBe(await digest(b));
    expect(await digest(a)).not.toBe(await digest(c));
  });

  it('ensure skips a matching dataset, refuses a different config or a foreign folder, and never half-writes', async () => {
    const root = await mkdtemp(join(tmpdir(), 'synth-'));
    expect((await ensureSyntheticDataset({ root, ...small, categories: ['weave'] })).written).toEqual(['weave']);
    expect((await ensureSyntheticDataset({ root, ...small, categories: ['weave'] })).generated).toBe(false);
    await expect(ensureSyntheticDataset({ root, ...small, trainCount: 5, categories: ['weave'] })).rejects.toThrow(
      /weave\/manifest\.json: holds a synthetic dataset generated with a different config/,
    );
    await mkdir(join(root, 'nut', 'train', 'good'), { recursive: true });
    await writeFile(join(root, 'nut', 'train', 'good', 'mine.png'), 'user data');
    await expect(ensureSyntheticDataset({ root, ...small, categories: ['nut'] })).rejects.toThrow(
      /nut: exists and is not a synthetic category/,
    );
    expect(await readFile(join(root, 'nut', 'train', 'good', 'mine.png'), 'utf8')).toBe('user data');
    expect((await readdir(root)).filter((n) => n.startsWith('.tmp'))).toEqual([]);
    await expect(ensureSyntheticDataset({ root, categories: ['carpet'] })).rejects.toThrow(
      /unknown synthetic category 'carpet'/,
    );
  });

  it('removes the temp folders of killed generations (their process is gone), not those of live ones', async () => {
    const root = await mkdtemp(join(tmpdir(), 'synth-'));
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    await mkdir(join(root, `.tmp-weave-${dead}`, 'train', 'good'), { recursive: true });
    await mkdir(join(root, `.tmp-disc-${process.ppid}`, 'train'), { recursive: true });
    await ensureSyntheticDataset({ root, ...small, categories: ['nut'] });
    expect((await readdir(root)).sort()).toEqual([`.tmp-disc-${process.ppid}`, 'nut']);
  });
});
