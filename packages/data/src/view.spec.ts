import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ViewSchema, viewDefaultingTo, viewKey, viewOutputSize, viewPlacement } from './view';

describe('views', () => {
  it('center-crop 256 → 224 takes the central square at offset 16 (torchvision CenterCrop)', () => {
    const v = ViewSchema.parse({ kind: 'center-crop' });
    expect(viewPlacement(v, 'x')).toEqual({
      angleDeg: 0,
      resizeHeight: 256,
      resizeWidth: 256,
      top: 16,
      left: 16,
      size: 224,
    });
    expect(viewOutputSize(v)).toBe(224);
    expect(viewKey(v)).toBe('center-crop:256:224');
    expect(viewKey(ViewSchema.parse({ kind: 'center-crop', filter: 'bilinear' }))).toBe('center-crop:256:224:bilinear');
    // a non-square source: the short side becomes 256, the long one ⌊256·900/600⌋ = 384 (torchvision Resize(int))
    expect(viewPlacement(v, 'x', { width: 900, height: 600 })).toEqual({
      angleDeg: 0,
      resizeHeight: 256,
      resizeWidth: 384,
      top: 16,
      left: 80,
      size: 224,
    });
    // odd difference: round half to even, as Python's round
    expect(viewPlacement(ViewSchema.parse({ kind: 'center-crop', resize: 13, crop: 8 }), 'x').top).toBe(2); // round(2.5) = 2
    expect(viewPlacement(ViewSchema.parse({ kind: 'center-crop', resize: 15, crop: 8 }), 'x').top).toBe(4); // round(3.5) = 4
  });

  it('rd-mvtec draws the angle and crop per sample from (seed, id): reproducible, within bounds, varied', () => {
    const v = ViewSchema.parse({ kind: 'rd-mvtec', seed: 3 });
    const a = viewPlacement(v, 'test/crack/000');
    expect(viewPlacement(v, 'test/crack/000')).toEqual(a);
    const all = Array.from({ length: 50 }, (_, i) => viewPlacement(v, `train/good/${i}`));
    for (const p of all) {
      expect(Math.abs(p.angleDeg)).toBeLessThanOrEqual(10);
      expect(p.top).toBeGreaterThanOrEqual(0);
      expect(p.top).toBeLessThanOrEqual(32);
    }
    expect(new Set(all.map((p) => p.top)).size).toBeGreaterThan(5);
    expect(viewPlacement(ViewSchema.parse({ kind: 'rd-mvtec', seed: 4 }), 'test/crack/000')).not.toEqual(a);
  });

  it('rejects unknown keys, kinds and a crop larger than the resize, with paths', () => {
    const typo = ViewSchema.safeParse({ kind: 'center-crop', crp: 200 });
    expect(typo.success).toBe(false);
    expect(ViewSchema.safeParse({ kind: 'zoom' }).success).toBe(false);
    const big = ViewSchema.safeParse({ kind: 'center-crop', resize: 200, crop: 224 });
    expect(big.success ? [] : big.error.issues.map((i) => i.path.join('.'))).toEqual(['crop']);
  });

  it("viewDefaultingTo: a method's view with fields unset keeps the method's defaults (its filter), another kind takes ViewSchema's", () => {
    const method = z.strictObject({
      view: viewDefaultingTo(ViewSchema.parse({ kind: 'resize', size: 224, filter: 'bilinear' })),
    });
    expect(method.parse({}).view).toEqual({ kind: 'resize', size: 224, filter: 'bilinear' });
    expect(method.parse({ view: { size: 128 } }).view).toEqual({ kind: 'resize', size: 128, filter: 'bilinear' });
    expect(method.parse({ view: { kind: 'resize', size: 128 } }).view).toEqual({
      kind: 'resize',
      size: 128,
      filter: 'bilinear',
    });
    expect(method.parse({ view: { kind: 'resize', filter: 'lanczos' } }).view.filter).toBe('lanczos');
    expect(method.parse({ view: { kind: 'center-crop' } }).view).toEqual({
      kind: 'center-crop',
      resize: 256,
      crop: 224,
      filter: 'lanczos',
    });
    const bad = method.safeParse({ view: { size: 128, crp: 3 } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].path).toEqual(['view']);
  });
});
