import { describe, expect, it } from 'vitest';
import { crop, resizeBilinear, resizeNearest, rotateAboutCentre } from './resize';

const raster = (data: number[], width: number, height: number, channels = 1) => ({
  data: Float32Array.from(data),
  width,
  height,
  channels,
});

describe('resizeBilinear', () => {
  it('upsampling 1×2 → 1×4 is half-pixel bilinear with clamped edges: [a, .75a+.25b, .25a+.75b, b]', () => {
    expect(Array.from(resizeBilinear(raster([0, 4], 2, 1), 4, 1).data)).toEqual([0, 1, 3, 4]);
  });

  it('downsampling 1×4 → 1×2 by 2 averages with the widened triangle filter (PIL bilinear)', () => {
    // out[0]: centre 1, support 2 → taps at 0,1,2 with weights ¼·(.75, .75, .25)… normalised: (.75·a + .75·b + .25·c) / 1.75
    const [o0, o1] = resizeBilinear(raster([0, 4, 8, 12], 4, 1), 2, 1).data;
    expect(o0).toBeCloseTo((0.75 * 0 + 0.75 * 4 + 0.25 * 8) / 1.75, 5);
    expect(o1).toBeCloseTo((0.25 * 4 + 0.75 * 8 + 0.75 * 12) / 1.75, 5);
  });

  it('keeps a constant image constant, per channel', () => {
    const out = resizeBilinear(
      raster(
        Array.from({ length: 5 * 7 * 3 }, (_, i) => [0.1, 0.5, 0.9][i % 3]),
        5,
        7,
        3,
      ),
      11,
      3,
    );
    out.data.forEach((v, i) => expect(v).toBeCloseTo([0.1, 0.5, 0.9][i % 3], 6));
  });
});

describe("resizeNearest (Pillow's accumulated (dst + ½)·in/out)", () => {
  it('4 → 2 picks indices 1 and 3; 2 → 4 repeats', () => {
    const m = { data: Uint8Array.from([0, 1, 0, 1]), width: 4, height: 1, channels: 1 };
    expect(Array.from(resizeNearest(m, 2, 1).data)).toEqual([1, 1]);
    expect(Array.from(resizeNearest({ ...m, data: Uint8Array.from([0, 1]), width: 2 }, 4, 1).data)).toEqual([
      0, 0, 1, 1,
    ]);
  });
});

describe('rotateAboutCentre and crop', () => {
  it('180° flips a 3×3 mask exactly; 0° copies', () => {
    const m = { data: Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0]), width: 3, height: 3, channels: 1 };
    expect(Array.from(rotateAboutCentre(m, 180, 'nearest').data)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(Array.from(rotateAboutCentre(m, 0, 'nearest').data)).toEqual(Array.from(m.data));
  });

  it('crop takes the square at (top, left) and refuses one outside', () => {
    const r = raster([1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 3);
    expect(Array.from(crop(r, 1, 1, 2).data)).toEqual([5, 6, 8, 9]);
    expect(() => crop(r, 2, 2, 2)).toThrow(/crop of 2 at \(2, 2\) exceeds 3×3/);
  });
});
