import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { categoryKind, indexCategory, loadSamples } from '../mvtec';
import { ViewSchema } from '../view';
import { decodeImage } from '../decode';
import {
  ensureSyntheticDataset,
  generateSyntheticDataset,
  SYNTHETIC_GENERATOR_VERSION,
  syntheticNormalPose,
} from './generate';

const small = { imageSize: 64, trainCount: 3, testGoodCount: 2, testDefectCount: 4 };

/** sha256 over every file (or only those matching) under `dir`, with their relative paths. */
async function digest(dir: string, only?: RegExp, read: (file: string) => Promise<Buffer> = readFile): Promise<string> {
  const h = createHash('sha256');
  const walk = async (d: string): Promise<void> => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (!only || only.test(e.name)) h.update(p.slice(dir.length)).update(await read(p));
    }
  };
  await walk(dir);
  return h.digest('hex');
}

describe('synthetic dataset', () => {
  it("syntheticNormalPose gives where the written image's object lies: the bolt's centre and shaft axis; none for textures", async () => {
    const config = { imageSize: 128, trainCount: 3, testGoodCount: 2, testDefectCount: 4 };
    const root = await mkdtemp(join(tmpdir(), 'synth-pose-'));
    await generateSyntheticDataset({ root, categories: ['bolt'], ...config });
    for (const [split, folder, index] of [
      ['train', 'train/good', 2],
      ['test/good', 'test/good', 1],
    ] as const) {
      const pose = syntheticNormalPose({ category: 'bolt', split, index, config })!;
      const { data } = await decodeImage(join(root, 'bolt', folder, `00${index}.png`));
      // the bolt is darker than its plate (grey 0.74): its pixels' first and second moments
      let n = 0,
        sx = 0,
        sy = 0,
        sxx = 0,
        syy = 0,
        sxy = 0;
      for (let y = 0; y < 128; y++)
        for (let x = 0; x < 128; x++)
          if (data[(y * 128 + x) * 3] < 0.6) {
            const [px, py] = [x + 0.5, y + 0.5];
            n++;
            sx += px;
            sy += py;
            sxx += px * px;
            syy += py * py;
            sxy += px * py;
          }
      const [mx, my] = [sx / n, sy / n];
      const axis = 0.5 * Math.atan2(2 * (sxy / n - mx * my), sxx / n - mx * mx - (syy / n - my * my));
      const turn = Math.abs(Math.atan2(Math.sin(2 * (axis - pose.angle)), Math.cos(2 * (axis - pose.angle)))) / 2;
      expect(turn).toBeLessThan(0.1); // radians, the axis modulo a half-turn
      // the centroid sits on the axis, a little towards the head (u < 0): within the bolt's half-length
      expect(Math.hypot(mx - pose.cx, my - pose.cy)).toBeLessThan(0.12 * 128);
      const along = (mx - pose.cx) * Math.cos(pose.angle) + (my - pose.cy) * Math.sin(pose.angle);
      expect(along).toBeLessThan(0);
    }
    expect(syntheticNormalPose({ category: 'weave', split: 'train', index: 0 })).toBeUndefined();
  });

  it('writes masks as 1-channel grayscale PNGs, as MVTec AD does (the reference loader stacks them as [1, H, W])', async () => {
    const root = await mkdtemp(join(tmpdir(), 'synth-gray-'));
    await generateSyntheticDataset({ root, categories: ['disc'], ...small });
    const defect = (await readdir(join(root, 'disc', 'ground_truth')))[0];
    const file = join(root, 'disc', 'ground_truth', defect, '000_mask.png');
    const { default: sharp } = await import('sharp');
    expect((await sharp(file).metadata()).channels).toBe(1);
  });

  it('the classic set, asked for by name, writes the MVTec layout for 2 textures and 2 objects; masks are non-empty exactly for defects', async () => {
    const root = await mkdtemp(join(tmpdir(), 'synth-'));
    const result = await generateSyntheticDataset({ root, ...small, categories: ['weave', 'marble', 'disc', 'nut'] });
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

  it('the classic set renders as in generator version 1 (same image bytes, same mask pixels)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'synth-'));
    await generateSyntheticDataset({ root, ...small, categories: ['weave', 'marble', 'disc', 'nut'] });
    // Measured on version 1's code with this config (all PNG bytes: fd6ac571…, commit 3f530fa). Masks
    // are 1-channel PNGs since (MVTec's format), so they are compared by their decoded pixel values.
    const { default: sharp } = await import('sharp');
    const firstChannel = (file: string) => sharp(file).extractChannel(0).raw().toBuffer();
    expect(await digest(root, /(?<!_mask)\.png$/)).toBe(
      '9acea53d3324bda985783244163c8deda798daa5749c89cc7afecab18e6654d9',
    );
    expect(await digest(root, /_mask\.png$/, firstChannel)).toBe(
      '94801a41368029b802adc0cc266df89fa092243ab58484876a5aff2664a9726c',
    );
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
      /unknown synthetic category 'carpet': expected one of fleece, .* \(standard set\) or weave, marble, disc, nut \(classic set\)/,
    );
  });

  it('regenerates a folder of an older generator version with the same config, and refuses one with another config', async () => {
    const root = await mkdtemp(join(tmpdir(), 'synth-'));
    await ensureSyntheticDataset({ root, ...small, categories: ['disc'] });
    const manifestPath = join(root, 'disc', 'manifest.json');
    const current = JSON.parse(await readFile(manifestPath, 'utf8'));
    await writeFile(manifestPath, JSON.stringify({ ...current, version: 1 }));
    await writeFile(join(root, 'disc', 'train', 'good', '000.png'), 'stale');
    const again = await ensureSyntheticDataset({ root, ...small, categories: ['disc'] });
    expect(again.regenerated).toEqual([{ category: 'disc', fromVersion: 1 }]);
    expect(JSON.parse(await readFile(manifestPath, 'utf8')).version).toBe(SYNTHETIC_GENERATOR_VERSION);
    expect(await readFile(join(root, 'disc', 'train', 'good', '000.png'), 'utf8')).not.toBe('stale');
    await writeFile(
      manifestPath,
      JSON.stringify({ ...current, version: 1, config: { ...current.config, trainCount: 9 } }),
    );
    await expect(ensureSyntheticDataset({ root, ...small, categories: ['disc'] })).rejects.toThrow(
      /disc\/manifest\.json: holds a synthetic dataset of generator version 1 with a different config .*this is version 2/,
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
