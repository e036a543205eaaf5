/**
 * The standard set (the embedded default): 5 textures and 10 objects, grayscale where promised,
 * pose jitter on objects, and subtle defects whose masks are exactly the changed pixels.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createRng } from '@cfa/tensor-runtime';
import { describe, expect, it } from 'vitest';
import { indexCategory, MVTEC_OBJECTS, MVTEC_TEXTURES } from '../mvtec';
import { toRgb8 } from './canvas';
import { SYNTHETIC_CATEGORIES, SYNTHETIC_SETS, syntheticCategory } from './categories';
import { generateSyntheticDataset, SyntheticConfigSchema } from './generate';

const SIZE = 64;

describe('the standard synthetic set', () => {
  it('is the default: 5 textures then 10 objects, names of our own, three grayscale categories', () => {
    expect(SyntheticConfigSchema.parse({}).categories).toEqual(SYNTHETIC_SETS.standard);
    expect(SYNTHETIC_CATEGORIES.map((c) => c.kind)).toEqual([...Array(5).fill('texture'), ...Array(10).fill('object')]);
    for (const c of SYNTHETIC_CATEGORIES) expect([...MVTEC_TEXTURES, ...MVTEC_OBJECTS]).not.toContain(c.name);
    expect(SYNTHETIC_CATEGORIES.filter((c) => c.grayscale).map((c) => c.name)).toEqual(['lattice', 'bolt', 'fastener']);
  });

  it('writes every category in the MVTec layout; grayscale categories have equal channels', async () => {
    const root = await mkdtemp(join(tmpdir(), 'synth-std-'));
    await generateSyntheticDataset({ root, imageSize: SIZE, trainCount: 2, testGoodCount: 1, testDefectCount: 4 });
    for (const info of SYNTHETIC_CATEGORIES) {
      const index = await indexCategory({ root, category: info.name });
      expect(index.train, info.name).toHaveLength(2);
      expect([...new Set(index.test.map((r) => r.defect))].sort(), info.name).toEqual(['good', ...info.defects].sort());
      const { data, info: png } = await sharp(index.test.at(-1)!.imagePath).raw().toBuffer({ resolveWithObject: true });
      expect(png.channels).toBe(3);
      const equal = data.every((_, i) => i % 3 !== 0 || (data[i] === data[i + 1] && data[i] === data[i + 2]));
      expect(equal, `${info.name} channels equal`).toBe(info.grayscale);
    }
  }, 60_000);

  it('each defect mask is exactly the set of pixels whose 8-bit value differs from the normal image', () => {
    for (const name of SYNTHETIC_SETS.standard) {
      const category = syntheticCategory(name);
      for (const defect of category.defects) {
        const rng = createRng(3).fork(`${name}/${defect}`);
        const { image, mask } = category.defective(rng, SIZE, defect);
        // the documented convention: the normal image is drawn from the stream 'normal'
        const before = toRgb8(category.render(rng.fork('normal'), SIZE).canvas);
        const after = toRgb8(image.canvas);
        let on = 0;
        const wrong: number[] = [];
        for (let p = 0; p < SIZE * SIZE; p++) {
          const changed = [0, 1, 2].some((k) => before[p * 3 + k] !== after[p * 3 + k]);
          if (mask[p] !== (changed ? 1 : 0)) wrong.push(p);
          on += mask[p];
        }
        expect(wrong, `${name}/${defect}: pixels where mask and change disagree`).toEqual([]);
        expect(on, `${name}/${defect}`).toBeGreaterThanOrEqual(6);
      }
    }
  });

  it('defects are subtle: small (spots under 0.5 % of the image), scratches and colour shifts faint', () => {
    const size = 96;
    for (const name of SYNTHETIC_SETS.standard) {
      const category = syntheticCategory(name);
      for (const defect of category.defects) {
        const rng = createRng(11).fork(`${name}/${defect}`);
        const { image, mask } = category.defective(rng, size, defect);
        const before = toRgb8(category.render(rng.fork('normal'), size).canvas);
        const after = toRgb8(image.canvas);
        let area = 0,
          change = 0;
        for (let p = 0; p < size * size; p++) {
          if (!mask[p]) continue;
          area++;
          for (let k = 0; k < 3; k++) change += Math.abs(after[p * 3 + k] - before[p * 3 + k]) / 255 / 3;
        }
        // the cord's missing core is the largest defect (MVTec's cable has the same)
        expect(area / (size * size), `${name}/${defect} area`).toBeLessThan(name === 'cord' ? 0.08 : 0.025);
        if (defect === 'spot') expect(area / (size * size), `${name}/spot area`).toBeLessThan(0.005);
        if (defect === 'scratch' || defect === 'colour')
          expect(change / area, `${name}/${defect} mean change`).toBeLessThan(0.12);
      }
    }
  });

  it('objects vary in pose from image to image (loose ones at any angle); textures never repeat', () => {
    const size = 96;
    for (const name of SYNTHETIC_SETS.standard) {
      const category = syntheticCategory(name);
      const images = Array.from({ length: 6 }, (_, i) => category.render(createRng(0).fork(i), size));
      const first = toRgb8(images[0].canvas);
      for (const im of images.slice(1))
        expect(
          toRgb8(im.canvas).some((v, i) => v !== first[i]),
          name,
        ).toBe(true);
      if (category.kind === 'texture') continue;
      const centroids = images.map(({ region }) => {
        let n = 0,
          sx = 0,
          sy = 0;
        region.forEach((on, i) => {
          if (!on) return;
          n++;
          sx += i % size;
          sy += Math.floor(i / size);
        });
        return [sx / n, sy / n];
      });
      const spread = Math.max(...centroids.map(([x]) => x)) - Math.min(...centroids.map(([x]) => x));
      expect(spread, `${name}: centroid x spread (px)`).toBeGreaterThan(0.2);
      expect(spread, `${name}: centroid x spread (px)`).toBeLessThan(0.3 * size);
    }
  });
});
