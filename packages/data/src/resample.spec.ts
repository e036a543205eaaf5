import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyView, IMAGENET_MEAN, IMAGENET_STD } from './preprocess';
import { resizeLanczos } from './resample';
import { resizeBilinear, resizeBilinearPillow } from './resize';
import { ViewSchema } from './view';

// Made by tools/torch-reference/pil_fixtures.py with Pillow 9.4 + torchvision 0.14: the reference
// code's T.Resize(short, Image.ANTIALIAS) [+ T.CenterCrop] of RGB images, the same with
// Image.BILINEAR (PatchCore's and CRAD's reference codes), and T.Resize(short, Image.NEAREST)
// [+ CenterCrop] of masks, square and not, down and up.
const { cases } = JSON.parse(readFileSync(new URL('./__fixtures__/pil-resize.json', import.meta.url), 'utf8')) as {
  cases: {
    height: number;
    width: number;
    short: number;
    crop: number | null;
    image: number[];
    mask: number[];
    outHeight: number;
    outWidth: number;
    out: number[];
    outBilinear: number[];
    outMask: number[];
  }[];
};

const rgb8 = (bytes: number[], width: number, height: number) => ({
  data: Float32Array.from(bytes, (b) => b / 255),
  width,
  height,
  channels: 3,
  bits: 8 as const,
});

describe('resizeLanczos', () => {
  it('gives Pillow’s bytes exactly for 8-bit images (torchvision Resize(short) sizes, no crop)', () => {
    for (const c of cases.filter((k) => k.crop === null)) {
      const out = resizeLanczos(rgb8(c.image, c.width, c.height), c.outWidth, c.outHeight);
      expect([out.width, out.height]).toEqual([c.outWidth, c.outHeight]);
      expect(
        Array.from(out.data, (v) => Math.round(v * 255)),
        `${c.height}×${c.width}`,
      ).toEqual(c.out);
    }
  });

  it('keeps a constant image constant and returns a copy when the size does not change', () => {
    const flat = { data: new Float32Array(5 * 4 * 3).fill(0.4), width: 5, height: 4, channels: 3 };
    resizeLanczos(flat, 3, 7).data.forEach((v) => expect(v).toBeCloseTo(0.4, 6));
    const same = resizeLanczos(flat, 5, 4);
    expect(same.data).toEqual(flat.data);
    expect(same.data).not.toBe(flat.data);
  });
});

describe('applyView center-crop (the reference code’s Resize(short) + CenterCrop, Pillow filters)', () => {
  it('matches torchvision/Pillow for square and non-square images and their masks', () => {
    for (const c of cases.filter((k) => k.crop !== null)) {
      const view = ViewSchema.parse({ kind: 'center-crop', resize: c.short, crop: c.crop });
      const mask = {
        data: Uint8Array.from(c.mask, (v) => (v > 127 ? 1 : 0)),
        width: c.width,
        height: c.height,
        channels: 1,
      };
      const viewed = applyView({ image: rgb8(c.image, c.width, c.height), mask, view, sampleId: 'x' });
      // max(0, …): a 0 byte can come back as −1e-6, and toEqual tells −0 from 0
      const bytes = Array.from(viewed.image, (v, i) =>
        Math.max(0, Math.round((v * IMAGENET_STD[i % 3] + IMAGENET_MEAN[i % 3]) * 255)),
      );
      expect(bytes, `${c.height}×${c.width} → ${c.crop}`).toEqual(c.out);
      expect(Array.from(viewed.mask), `mask ${c.height}×${c.width}`).toEqual(c.outMask.map((v) => (v > 127 ? 1 : 0)));
    }
  });
});

describe('resizeBilinearPillow (a view with filter: bilinear)', () => {
  const toBytes = (data: Float32Array) =>
    Array.from(data, (v, i) => Math.max(0, Math.round((v * IMAGENET_STD[i % 3] + IMAGENET_MEAN[i % 3]) * 255)));

  it('gives Pillow’s bilinear bytes exactly for 8-bit images, through the view as the reference datasets read them', () => {
    for (const c of cases) {
      const direct = resizeBilinearPillow(rgb8(c.image, c.width, c.height), c.outWidth, c.outHeight);
      if (c.crop === null)
        expect(
          Array.from(direct.data, (v) => Math.round(v * 255)),
          `${c.height}×${c.width}`,
        ).toEqual(c.outBilinear);
      else {
        const view = ViewSchema.parse({ kind: 'center-crop', resize: c.short, crop: c.crop, filter: 'bilinear' });
        const mask = { data: new Uint8Array(c.width * c.height), width: c.width, height: c.height, channels: 1 };
        const viewed = applyView({ image: rgb8(c.image, c.width, c.height), mask, view, sampleId: 'x' });
        expect(toBytes(viewed.image), `${c.height}×${c.width} → ${c.crop}`).toEqual(c.outBilinear);
      }
    }
  });

  it('differs from the floating-point triangle filter (what views read before), which misses Pillow’s rounding', () => {
    const c = cases.find((k) => k.crop === null && k.outHeight < k.height)!;
    const float = resizeBilinear(rgb8(c.image, c.width, c.height), c.outWidth, c.outHeight);
    const bytes = Array.from(float.data, (v) => v * 255);
    const off = bytes.filter((v, i) => Math.abs(v - c.outBilinear[i]) > 0.5).length;
    expect(off).toBeGreaterThan(0);
  });
});
