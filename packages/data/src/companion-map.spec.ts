import { describe, expect, it } from 'vitest';
import { alignCompanionMap } from './companion-map';
import { applyView } from './preprocess';
import { companionView, type View, ViewSchema, viewOutputSize, viewPlacement } from './view';

/** A smooth function of full-image coordinates u, v ∈ [0, 1] (curvature ≈ 40: bilinear error ≈ 1e-4 at 224). */
const f = (u: number, v: number) => Math.sin(2 * Math.PI * u) * Math.cos(1.5 * Math.PI * v) + u * u - 0.5 * v;

/** f at the pixel centres of a side² grid covering the whole image. */
function fullImageMap(side: number): Float32Array {
  const out = new Float32Array(side * side);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) out[y * side + x] = f((x + 0.5) / side, (y + 0.5) / side);
  return out;
}

/** f at the primary's pixel centres: pixel (y, x) is (top + y, left + x) of the image resized to R×R. */
function onPrimaryGrid(view: View, sampleId: string, offset?: { top: number; left: number }): Float32Array {
  const p = viewPlacement(view, sampleId);
  const { top, left } = offset ?? p;
  const out = new Float32Array(p.size * p.size);
  for (let y = 0; y < p.size; y++)
    for (let x = 0; x < p.size; x++)
      out[y * p.size + x] = f((left + x + 0.5) / p.resizeWidth, (top + y + 0.5) / p.resizeHeight);
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** An rd-mvtec sample whose crop is off-centre on both axes. */
function offCentreSample(view: View): string {
  for (let i = 0; ; i++) {
    const p = viewPlacement(view, `test/crack/${i}`);
    if (p.top > 2 && p.left > 2 && p.top !== p.left && p.top !== 16 && p.left !== 16) return `test/crack/${i}`;
  }
}

describe('companionView', () => {
  it("center-crop 256/224 → resize 224; rd-mvtec keeps each sample's angle, resizes to the crop and crops nothing", () => {
    expect(companionView(ViewSchema.parse({ kind: 'center-crop' }))).toEqual({
      kind: 'resize',
      size: 224,
      filter: 'lanczos',
    });
    const rd = ViewSchema.parse({ kind: 'rd-mvtec', seed: 5 });
    const c = companionView(rd);
    expect(c).toEqual({ kind: 'rd-mvtec', resize: 224, crop: 224, maxRotationDeg: 10, seed: 5, filter: 'lanczos' });
    expect(ViewSchema.parse(c)).toEqual(c);
    for (let i = 0; i < 20; i++) {
      const id = `train/good/${i}`;
      expect(viewPlacement(c, id)).toEqual({
        angleDeg: viewPlacement(rd, id).angleDeg,
        resizeHeight: 224,
        resizeWidth: 224,
        top: 0,
        left: 0,
        size: 224,
      });
    }
    expect(viewOutputSize(c)).toBe(viewOutputSize(rd));
  });

  it('a resize view has no companion', () => {
    expect(() => companionView(ViewSchema.parse({ kind: 'resize' }))).toThrow(
      /resize:224 is already resize-only and has no companion/,
    );
  });
});

describe('alignCompanionMap', () => {
  it('center-crop 256/224: a companion map of f(full image) comes back as f on the primary grid (crop offset 16)', () => {
    const primary = ViewSchema.parse({ kind: 'center-crop' });
    const side = viewOutputSize(companionView(primary));
    const aligned = alignCompanionMap({ map: fullImageMap(side), side, primary, sampleId: 'x' });
    expect(aligned).toHaveLength(224 * 224);
    expect(maxAbsDiff(aligned, onPrimaryGrid(primary, 'x'))).toBeLessThan(5e-4);
    // the offset matters: the same function read without the crop offset is far off
    expect(maxAbsDiff(aligned, onPrimaryGrid(primary, 'x', { top: 0, left: 0 }))).toBeGreaterThan(0.1);
  });

  it("rd-mvtec: respects the sample's own random crop offset", () => {
    const primary = ViewSchema.parse({ kind: 'rd-mvtec', seed: 1 });
    const id = offCentreSample(primary);
    const side = viewOutputSize(companionView(primary));
    const aligned = alignCompanionMap({ map: fullImageMap(side), side, primary, sampleId: id });
    expect(maxAbsDiff(aligned, onPrimaryGrid(primary, id))).toBeLessThan(5e-4);
    expect(maxAbsDiff(aligned, onPrimaryGrid(primary, id, { top: 16, left: 16 }))).toBeGreaterThan(0.02);
  });

  it('agrees with applyView: the companion input, aligned, matches the primary input (rotation included, interior)', () => {
    const W = 300;
    const data = new Float32Array(W * W * 3);
    for (let y = 0; y < W; y++)
      for (let x = 0; x < W; x++)
        data.fill(0.5 + 0.4 * f((x + 0.5) / W, (y + 0.5) / W), (y * W + x) * 3, (y * W + x + 1) * 3);
    const image = { data, width: W, height: W, channels: 3 };
    const mask = { data: new Uint8Array(W * W), width: W, height: W, channels: 1 };
    const channel0 = (a: Float32Array) => Float32Array.from({ length: a.length / 3 }, (_, i) => a[3 * i]);
    for (const primary of [
      ViewSchema.parse({ kind: 'center-crop', resize: 128, crop: 112 }),
      ViewSchema.parse({ kind: 'rd-mvtec', resize: 128, crop: 112, seed: 2 }),
    ]) {
      const id = primary.kind === 'rd-mvtec' ? offCentreSample(primary) : 'x';
      const p = applyView({ image, mask, view: primary, sampleId: id });
      const c = applyView({ image, mask, view: companionView(primary), sampleId: id });
      const aligned = alignCompanionMap({ map: channel0(c.image), side: c.size, primary, sampleId: id });
      const want = channel0(p.image);
      // away from the rotation's zero-filled corners and the image border
      const place = viewPlacement(primary, id);
      let worst = 0;
      for (let y = 0; y < p.size; y++) {
        for (let x = 0; x < p.size; x++) {
          const dy = place.top + y + 0.5 - place.resizeHeight / 2,
            dx = place.left + x + 0.5 - place.resizeWidth / 2;
          if (Math.hypot(dx, dy) < 0.4 * place.resizeWidth)
            worst = Math.max(worst, Math.abs(aligned[y * p.size + x] - want[y * p.size + x]));
        }
      }
      // normalised units (÷ std 0.229): the two resamplings of a smooth image differ by ≈ 3e-3
      expect(worst, primary.kind).toBeLessThan(1e-2);
    }
  });

  it('rejects a map of the wrong size and a resize primary', () => {
    const primary = ViewSchema.parse({ kind: 'center-crop' });
    expect(() => alignCompanionMap({ map: new Float32Array(10), side: 224, primary, sampleId: 'x' })).toThrow(
      /must hold \[224, 224\] values, got 10/,
    );
    expect(() =>
      alignCompanionMap({
        map: new Float32Array(4),
        side: 2,
        primary: ViewSchema.parse({ kind: 'resize' }),
        sampleId: 'x',
      }),
    ).toThrow(/no companion/);
  });
});
