import { describe, expect, it } from 'vitest';
import { computeAnomalyMetrics } from './evaluate';
import { f1Max } from './f1';
import { aupro } from './pro';
import { pixelProReference, rescaleFloat32 } from './pro-reference';
import { auroc } from './roc';
import { randomInt, seededRandom } from './testing/seeded-random';

// Two 1×4 images: image 0 is good, image 1 has a 2-pixel defect.
//   image 0: scores .1 .2  .3 .2   mask 0 0 0 0
//   image 1: scores .8 .25 .3 .1   mask 1 1 0 0
const input = {
  imageScores: [0.2, 0.9],
  imageLabels: [0, 1],
  maps: Float32Array.of(0.1, 0.2, 0.3, 0.2, 0.8, 0.25, 0.3, 0.1),
  masks: Uint8Array.of(0, 0, 0, 0, 1, 1, 0, 0),
  count: 2,
  height: 1,
  width: 4,
};

describe('computeAnomalyMetrics', () => {
  it('hand-worked: all eight numbers', () => {
    const m = computeAnomalyMetrics(input);
    // images: the anomalous one scores higher → I-AUROC 1; F1 1 at its score .9
    expect(m.imageAuroc).toBe(1);
    expect(m.imageF1Max).toBe(1);
    expect(m.imageF1Threshold).toBe(0.9);
    // pixels: positives .8 .25, normals .3 .3 .2 .2 .1 .1; .8 beats 6, .25 beats 4 → 10/12
    expect(m.pixelAuroc).toBeCloseTo(10 / 12, 15);
    // F1 = 2TP/(TP+FP+P), P = 2: t=.8 → 2/3; t=.3 → 2/5; t=.25 → 4/6; t=.2 → 4/8. Max 2/3, lowest t = .25
    expect(m.pixelF1Max).toBeCloseTo(2 / 3, 15);
    expect(m.pixelF1Threshold).toBe(0.25);
    // one region of 2 (½ per pixel), N = 6: .8 → (0, ½); .3 → (2/6, ½) passes .3 at PRO ½ → .15/.3
    expect(m.pixelAupro).toBeCloseTo(0.5, 15);
    // P-PRO (ref) on the rescaled maps: the normals at 2/7 both switch on at step 143 (FPR 0 → ⅓ >
    // .3), so every kept point has FPR 0 and the rescaled FPR axis is 0/0, as in the reference code
    expect(m.pixelProReference).toBeNaN();
    expect(Object.keys(m.undefinedMetrics)).toEqual(['pixelProReference']);
    expect(m.undefinedMetrics.pixelProReference).toMatch(/P-PRO \(ref\).*143 of 200 thresholds.*constant/);
  });

  it('P-PRO (ref) is the reference function on the min-max rescaled maps', () => {
    const maps = Float32Array.of(0.1, 0.2, 0.3, 0.2, 0.8, 0.25, 0.3, 0.1, 0.05, 0.45, 0.6, 0.2);
    const masks = Uint8Array.of(0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0);
    const m = computeAnomalyMetrics({
      ...input,
      maps,
      masks,
      imageLabels: [0, 1, 1],
      imageScores: [1, 2, 3],
      count: 3,
    });
    const expected = pixelProReference({ maps: rescaleFloat32(maps), masks, count: 3, height: 1, width: 4 });
    expect(m.pixelProReference).toBe(expected);
    expect(expected).toBeGreaterThan(0);
  });

  it('passes fprLimit to P-AUPRO', () => {
    // .25 → (1/3, 1); area 1/3·½ + (½ − 1/3)·1 = 1/3 → /.5 = 2/3
    expect(computeAnomalyMetrics({ ...input, fprLimit: 0.5 }).pixelAupro).toBeCloseTo(2 / 3, 15);
  });

  it('reports NaN with a reason for image metrics when all 30 image labels are 0, and still the pixel metrics', () => {
    const count = 30;
    const masks = new Uint8Array(count * 4);
    masks[5] = 1;
    const maps = Float32Array.from(masks, (m, i) => m + i / 1000);
    const m = computeAnomalyMetrics({
      imageScores: new Float32Array(count),
      imageLabels: new Uint8Array(count),
      maps,
      masks,
      count,
      height: 2,
      width: 2,
    });
    expect(m.imageAuroc).toBeNaN();
    expect(m.imageF1Max).toBeNaN();
    expect(m.imageF1Threshold).toBeNaN();
    expect(m.undefinedMetrics).toEqual({
      imageAuroc: 'I-AUROC is undefined: all 30 image labels are 0 (need both classes)',
      imageF1Max: 'I-F1max is undefined: all 30 image labels are 0 (no anomalous sample, so recall is undefined)',
    });
    expect(m.pixelAuroc).toBe(1);
    expect(m.pixelAupro).toBeCloseTo(1, 14);
    expect(m.pixelF1Max).toBe(1);
  });

  it('reports NaN with a reason for the pixel metrics when no mask has an anomalous pixel', () => {
    const m = computeAnomalyMetrics({ ...input, masks: new Uint8Array(8) });
    expect([m.pixelAuroc, m.pixelAupro, m.pixelF1Max, m.pixelF1Threshold].every(Number.isNaN)).toBe(true);
    expect(m.undefinedMetrics).toEqual({
      pixelAuroc: 'P-AUROC is undefined: all 8 mask pixels are 0 (need both classes)',
      pixelAupro: 'P-AUPRO is undefined: the 2 masks have no anomalous pixel (need at least one region)',
      pixelF1Max: 'P-F1max is undefined: all 8 mask pixels are 0 (no anomalous sample, so recall is undefined)',
      pixelProReference: 'P-PRO (ref) is undefined: the 2 masks have no anomalous pixel (no region)',
    });
    expect(m.imageAuroc).toBe(1);
  });

  it('rejects input errors (not caught): lengths with expected vs received, NaN with its place, non-0/1 labels, empty', () => {
    expect(() => computeAnomalyMetrics({ ...input, imageScores: [0.2] })).toThrow(
      'computeAnomalyMetrics: imageScores has 1 values, expected 2 (one per image: count)',
    );
    expect(() => computeAnomalyMetrics({ ...input, imageLabels: [0, 1, 1] })).toThrow(
      'computeAnomalyMetrics: imageLabels has 3 values, expected 2 (one per image: count)',
    );
    expect(() => computeAnomalyMetrics({ ...input, maps: new Float32Array(6) })).toThrow(
      'computeAnomalyMetrics: maps has 6 values, expected 8 (count 2 × height 1 × width 4)',
    );
    expect(() => computeAnomalyMetrics({ ...input, masks: new Uint8Array(16) })).toThrow(
      'computeAnomalyMetrics: masks has 16 values, expected 8 (count 2 × height 1 × width 4)',
    );
    expect(() => computeAnomalyMetrics({ ...input, imageScores: [0.2, NaN] })).toThrow(
      'computeAnomalyMetrics: imageScores holds 1 non-finite value (NaN or ±Infinity); the first is NaN at index 1',
    );
    const maps = input.maps.slice();
    maps[6] = NaN;
    maps[7] = -Infinity;
    expect(() => computeAnomalyMetrics({ ...input, maps })).toThrow(
      'computeAnomalyMetrics: maps holds 2 non-finite values (NaN or ±Infinity); the first is NaN at index 6 (image 1, row 0, column 2)',
    );
    expect(() => computeAnomalyMetrics({ ...input, imageLabels: [0, 2] })).toThrow(
      /imageLabels must hold only 0 and 1, but 1 value does not; the first is 2 at index 1/,
    );
    expect(() => computeAnomalyMetrics({ ...input, masks: Uint8Array.of(0, 0, 0, 0, 255, 255, 0, 0) })).toThrow(
      /masks must hold only 0 and 1.*index 4 \(image 1, row 0, column 0\).*divide it by 255/,
    );
    expect(() =>
      computeAnomalyMetrics({ ...input, imageScores: [], imageLabels: [], maps: [], masks: [], count: 0 }),
    ).toThrow('computeAnomalyMetrics: count must be a positive integer, got 0 (empty input)');
    expect(() => computeAnomalyMetrics({ ...input, fprLimit: -0.3 })).toThrow(/fprLimit must be in \(0, 1\]/);
  });

  it('equals the single-metric functions on 40 random evaluations (its shared sort changes nothing)', () => {
    const random = seededRandom(29);
    for (let trial = 0; trial < 40; trial++) {
      const count = 1 + randomInt(random, 5);
      const height = 1 + randomInt(random, 6);
      const width = 1 + randomInt(random, 6);
      const masks = Uint8Array.from({ length: count * height * width }, () => (random() < 0.2 ? 1 : 0));
      const maps = Float32Array.from(masks, (m) => randomInt(random, 8) / 8 + 0.2 * m);
      const imageLabels = Uint8Array.from({ length: count }, () => randomInt(random, 2));
      const imageScores = Float32Array.from(imageLabels, (l) => randomInt(random, 5) + l);
      const m = computeAnomalyMetrics({ imageScores, imageLabels, maps, masks, count, height, width });
      const orNaN = (f: () => number) => {
        try {
          return f();
        } catch {
          return NaN;
        }
      };
      expect(m.imageAuroc).toBe(orNaN(() => auroc({ scores: imageScores, labels: imageLabels })));
      expect(m.pixelAuroc).toBe(orNaN(() => auroc({ scores: maps, labels: masks })));
      expect(m.pixelAupro).toBe(orNaN(() => aupro({ maps, masks, count, height, width })));
      expect(m.pixelProReference).toBe(
        orNaN(() => pixelProReference({ maps: rescaleFloat32(maps), masks, count, height, width })),
      );
      expect(m.imageF1Max).toBe(orNaN(() => f1Max({ scores: imageScores, labels: imageLabels }).f1));
      expect(m.pixelF1Threshold).toBe(orNaN(() => f1Max({ scores: maps, labels: masks }).threshold));
      // exactly the NaN metrics carry a reason
      const nanKeys = (
        ['imageAuroc', 'pixelAuroc', 'pixelAupro', 'pixelProReference', 'imageF1Max', 'pixelF1Max'] as const
      ).filter((k) => Number.isNaN(m[k]));
      expect(Object.keys(m.undefinedMetrics).sort()).toEqual(nanKeys.sort());
    }
  });
});
