import { describe, expect, it } from 'vitest';
import { MetricUndefinedError } from './errors';
import { aupro, proCurve } from './pro';
import { naivePartition } from './testing/naive-partition';
import { randomInt, seededRandom } from './testing/seeded-random';

/**
 * Reference, straight from the definition: for every distinct score t (descending) count FPR(t)
 * and PRO(t) from scratch, then integrate as MVTec AD's `generic_util.trapezoid(x, y, x_max)`
 * does (points with x ≤ x_max, plus a correction interpolated at x_max when it is not a point).
 */
function naiveAupro(
  maps: ArrayLike<number>,
  masks: ArrayLike<number>,
  count: number,
  height: number,
  width: number,
  fprLimit: number,
  connectivity: 4 | 8,
): number {
  const pixels = height * width;
  const regions: number[][] = [];
  for (let n = 0; n < count; n++) {
    const label = naivePartition(Array.from(masks).slice(n * pixels, (n + 1) * pixels), height, width, connectivity);
    for (const id of new Set(label.filter((v) => v)))
      regions.push(label.flatMap((v, i) => (v === id ? [n * pixels + i] : [])));
  }
  const normals = Array.from(masks).flatMap((m, i) => (m ? [] : [maps[i]]));
  const x = [0];
  const y = [0];
  for (const t of [...new Set(Array.from(maps))].sort((a, b) => b - a)) {
    x.push(normals.filter((s) => s >= t).length / normals.length);
    y.push(regions.reduce((sum, r) => sum + r.filter((i) => maps[i] >= t).length / r.length, 0) / regions.length);
  }
  let correction = 0;
  if (!x.includes(fprLimit)) {
    const ins = x.findIndex((v) => v > fprLimit); // bisect_right
    const yLimit = y[ins - 1] + ((y[ins] - y[ins - 1]) * (fprLimit - x[ins - 1])) / (x[ins] - x[ins - 1]);
    correction = 0.5 * (yLimit + y[ins - 1]) * (fprLimit - x[ins - 1]);
  }
  let area = 0;
  for (let i = 1; i < x.length && x[i] <= fprLimit; i++) area += 0.5 * (y[i] + y[i - 1]) * (x[i] - x[i - 1]);
  return (area + correction) / fprLimit;
}

describe('aupro', () => {
  // Two 2×3 images, two regions of different size:
  //   image A scores      mask A         image B scores      mask B
  //   .9  .6  .3          1 1 0          .4  .1  .2          0 0 0
  //   .2  .5  .1          1 0 0          .3  .05 .7          0 0 1
  // R1 = A's 3 pixels (scores .9 .6 .2), R2 = B's 1 pixel (.7); R = 2, so each R1 pixel adds
  // 1/(3·2) = 1/6 to PRO and the R2 pixel 1/2. Normals (N = 8): .5 .4 .3 .3 .2 .1 .1 .05.
  // Curve (FPR, PRO) by threshold: .9 (0, 1/6) · .7 (0, 2/3) · .6 (0, 5/6) · .5 (1/8, 5/6) ·
  //   .4 (2/8, 5/6) · .3 (4/8, 5/6) · .2 (5/8, 1) · .1 (7/8, 1) · .05 (1, 1)
  const maps = Float32Array.of(0.9, 0.6, 0.3, 0.2, 0.5, 0.1, 0.4, 0.1, 0.2, 0.3, 0.05, 0.7);
  const masks = Uint8Array.of(1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1);
  const shape = { count: 2, height: 2, width: 3 };

  it('hand-worked, two regions of different size: limit .3 → area .3·5/6 = .25 → /.3 = 5/6', () => {
    expect(aupro({ maps, masks, ...shape })).toBeCloseTo(5 / 6, 14);
    // pooling pixels instead (TPR over all 4 anomalous pixels) would give 3/4 on this plateau
  });

  it('hand-worked, fprLimit between points interpolates: limit .55', () => {
    // area to FPR .5 = .5·5/6 = 5/12; PRO(.55) = 5/6 + (1/6)·(.05/.125) = .9;
    // .5→.55 adds .05·(5/6 + .9)/2 = 13/300; (5/12 + 13/300)/.55 = (138/300)/.55 = 46/55
    expect(aupro({ maps, masks, ...shape, fprLimit: 0.55 })).toBeCloseTo(46 / 55, 14);
  });

  it('hand-worked, fprLimit on a curve point (.25) and the whole curve (1)', () => {
    expect(aupro({ maps, masks, ...shape, fprLimit: 0.25 })).toBeCloseTo(5 / 6, 14);
    // 5/12 + .125·(5/6 + 1)/2 + .25·1 + .125·1 = 40/96 + 11/96 + 24/96 + 12/96 = 87/96
    expect(aupro({ maps, masks, ...shape, fprLimit: 1 })).toBeCloseTo(87 / 96, 14);
  });

  it('tied anomalous and normal scores are one threshold step, whatever the pixel order', () => {
    // 1×4: region {.8, .5} (each pixel ½), normals {.5, .1}: (0,0) → .8 (0, ½) → .5 (½, 1) → .1 (1, 1)
    // limit .5: ½·(½ + 1)/2 = .375 → .75. Anomalous-first would give 1, normal-first .5.
    expect(
      aupro({
        maps: Float32Array.of(0.8, 0.5, 0.5, 0.1),
        masks: Uint8Array.of(1, 1, 0, 0),
        count: 1,
        height: 1,
        width: 4,
        fprLimit: 0.5,
      }),
    ).toBeCloseTo(0.75, 15);
    expect(
      aupro({
        maps: Float32Array.of(0.1, 0.5, 0.5, 0.8),
        masks: Uint8Array.of(0, 0, 1, 1),
        count: 1,
        height: 1,
        width: 4,
        fprLimit: 0.5,
      }),
    ).toBeCloseTo(0.75, 15);
    expect(
      aupro({
        maps: Float32Array.of(0.8, 0.5, 0.5, 0.1),
        masks: Uint8Array.of(1, 1, 0, 0),
        count: 1,
        height: 4,
        width: 1,
        fprLimit: 0.5,
      }),
    ).toBeCloseTo(0.75, 15);
  });

  it('perfect maps score 1, inverted 0, all-equal fprLimit/2 (the diagonal)', () => {
    const perfect = Float32Array.from(masks, (m, i) => m + i / 100);
    expect(aupro({ maps: perfect, masks, ...shape })).toBeCloseTo(1, 14);
    expect(aupro({ maps: perfect.map((v) => -v), masks, ...shape })).toBe(0);
    for (const fprLimit of [0.3, 0.7, 1]) {
      expect(aupro({ maps: new Float32Array(12).fill(0.4), masks, ...shape, fprLimit })).toBeCloseTo(fprLimit / 2, 14);
    }
  });

  it('8-connectivity joins a diagonal neighbour (one region of 4), 4-connectivity does not (3 + 1)', () => {
    //   mask    scores        the lone diagonal pixel scores .9; normals .6 .5 .4 .2 .1 (N = 5)
    //   1 1 0   .3 .3 .6      8-conn: R = 1, |r| = 4: .9 → (0, ¼); .6 → (.2, ¼); .5 → (.4, ¼)
    //   1 0 0   .3 .4 .1        → AUPRO = ¼ over [0, .3]
    //   0 1 0   .5 .9 .2      4-conn: R = 2 (3 and 1): .9 → (0, ½) … → AUPRO = ½
    const diagonal = {
      maps: Float32Array.of(0.3, 0.3, 0.6, 0.3, 0.4, 0.1, 0.5, 0.9, 0.2),
      masks: Uint8Array.of(1, 1, 0, 1, 0, 0, 0, 1, 0),
      count: 1,
      height: 3,
      width: 3,
    };
    expect(aupro(diagonal)).toBeCloseTo(0.25, 14);
    expect(aupro({ ...diagonal, connectivity: 8 })).toBeCloseTo(0.25, 14);
    expect(aupro({ ...diagonal, connectivity: 4 })).toBeCloseTo(0.5, 14);
  });

  it('is undefined without an anomalous pixel or without a normal one', () => {
    const none = () => aupro({ maps: new Float32Array(8), masks: new Uint8Array(8), count: 2, height: 2, width: 2 });
    expect(none).toThrow(MetricUndefinedError);
    expect(none).toThrow('P-AUPRO is undefined: the 2 masks have no anomalous pixel (need at least one region)');
    expect(() =>
      aupro({ maps: new Float32Array(4), masks: new Uint8Array(4).fill(1), count: 1, height: 2, width: 2 }),
    ).toThrow('P-AUPRO is undefined: all 4 mask pixels are 1 (the FPR needs normal pixels)');
  });

  it('rejects bad shapes, lengths, values and limits, naming the argument and the place', () => {
    const ok = {
      maps: new Float32Array(8),
      masks: Uint8Array.of(0, 1, 0, 0, 0, 0, 0, 0),
      count: 2,
      height: 2,
      width: 2,
    };
    expect(() => aupro({ ...ok, maps: new Float32Array(7) })).toThrow(
      'P-AUPRO: maps has 7 values, expected 8 (count 2 × height 2 × width 2)',
    );
    expect(() => aupro({ ...ok, masks: new Uint8Array(9) })).toThrow(
      'P-AUPRO: masks has 9 values, expected 8 (count 2 × height 2 × width 2)',
    );
    expect(() => aupro({ ...ok, count: 0, maps: new Float32Array(0), masks: new Uint8Array(0) })).toThrow(
      'P-AUPRO: count must be a positive integer, got 0 (empty input)',
    );
    expect(() => aupro({ ...ok, width: 2.5 })).toThrow(/width must be a positive integer, got 2.5/);
    const nan = Float32Array.of(0, 0, 0, 0, 0, 0, 0, NaN);
    expect(() => aupro({ ...ok, maps: nan })).toThrow(
      'P-AUPRO: maps holds 1 non-finite value (NaN or ±Infinity); the first is NaN at index 7 (image 1, row 1, column 1)',
    );
    expect(() => aupro({ ...ok, masks: Uint8Array.of(0, 255, 0, 0, 0, 255, 0, 0) })).toThrow(
      'P-AUPRO: masks must hold only 0 and 1, but 2 values do not; the first is 255 at index 1 (image 0, row 0, column 1) (a 0/255 mask? divide it by 255)',
    );
    expect(() => aupro({ ...ok, fprLimit: 0 })).toThrow('P-AUPRO: fprLimit must be in (0, 1], got 0');
    expect(() => aupro({ ...ok, fprLimit: 1.5 })).toThrow(/fprLimit must be in \(0, 1\], got 1.5/);
  });

  it('gives the same value for plain arrays, Float64Array maps and Float32Array maps', () => {
    const plain = aupro({ maps: Array.from(maps), masks: Array.from(masks), ...shape, fprLimit: 0.55 });
    expect(plain).toBeCloseTo(46 / 55, 14);
    expect(aupro({ maps: Float64Array.from(maps), masks, ...shape, fprLimit: 0.55 })).toBe(plain);
  });

  it('equals the per-threshold definition on 120 random stacks with ties, limits and both connectivities', () => {
    const random = seededRandom(17);
    for (let trial = 0; trial < 120; trial++) {
      const count = 1 + randomInt(random, 3);
      const height = 1 + randomInt(random, 7);
      const width = 1 + randomInt(random, 7);
      const size = count * height * width;
      const density = 0.05 + 0.4 * random();
      if (size < 2) continue;
      const masks = Uint8Array.from({ length: size }, () => (random() < density ? 1 : 0));
      // both classes present: one pixel forced anomalous, another forced normal
      const forced = randomInt(random, size);
      masks[forced] = 1;
      masks[(forced + 1 + randomInt(random, size - 1)) % size] = 0;
      const levels = 2 + randomInt(random, 12); // few levels → ties within and across classes
      // anomalous pixels score a few levels higher on average, on the same grid: ties across classes
      const maps = Float32Array.from(
        masks,
        (m) => (randomInt(random, levels) + (m ? randomInt(random, 4) : 0)) / levels,
      );
      const fprLimit = [0.3, 0.05, 0.5, 1, 0.01 + 0.99 * random()][randomInt(random, 5)];
      const connectivity = random() < 0.5 ? 4 : 8;
      expect(aupro({ maps, masks, count, height, width, fprLimit, connectivity })).toBeCloseTo(
        naiveAupro(maps, masks, count, height, width, fprLimit, connectivity),
        12,
      );
    }
  });
});

describe('proCurve', () => {
  // the hand-worked stack of `aupro` above
  const maps = Float32Array.of(0.9, 0.6, 0.3, 0.2, 0.5, 0.1, 0.4, 0.1, 0.2, 0.3, 0.05, 0.7);
  const masks = Uint8Array.of(1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1);
  const shape = { count: 2, height: 2, width: 3 };

  it('hand-worked: one point per distinct score from (0, 0), PRO averaged over regions', () => {
    const curve = proCurve({ maps, masks, ...shape });
    expect(Array.from(curve.fpr)).toEqual([0, 0, 0, 0, 1 / 8, 2 / 8, 4 / 8, 5 / 8, 7 / 8, 1]);
    const expected = [0, 1 / 6, 2 / 3, 5 / 6, 5 / 6, 5 / 6, 5 / 6, 1, 1, 1];
    curve.pro.forEach((p, i) => expect(p, `point ${i}`).toBeCloseTo(expected[i], 14));
    expect(Array.from(curve.thresholds)).toEqual(
      [Infinity, 0.9, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05].map((t) => (t === Infinity ? t : Math.fround(t))),
    );
  });

  it('stops after the first point at or beyond maxFpr', () => {
    expect(Array.from(proCurve({ maps, masks, ...shape, maxFpr: 0.3 }).fpr)).toEqual([0, 0, 0, 0, 1 / 8, 2 / 8, 4 / 8]);
  });

  it('is the curve aupro integrates: its trapezoid area to 0.3 over 0.3 is P-AUPRO on random stacks', () => {
    const random = seededRandom(5);
    for (let trial = 0; trial < 40; trial++) {
      const count = 1 + randomInt(random, 3);
      const height = 2 + randomInt(random, 6);
      const width = 2 + randomInt(random, 6);
      const size = count * height * width;
      const masks = Uint8Array.from({ length: size }, () => (random() < 0.3 ? 1 : 0));
      masks[0] = 1;
      masks[size - 1] = 0;
      const maps = Float32Array.from(masks, (m) => randomInt(random, 9) / 9 + (m ? 0.2 * random() : 0));
      const { fpr, pro } = proCurve({ maps, masks, count, height, width });
      let area = 0;
      for (let i = 1; i < fpr.length; i++) {
        const x0 = fpr[i - 1];
        if (x0 >= 0.3) break;
        const x1 = Math.min(fpr[i], 0.3);
        const y1 = fpr[i] === x0 ? pro[i] : pro[i - 1] + ((pro[i] - pro[i - 1]) * (x1 - x0)) / (fpr[i] - x0);
        area += ((x1 - x0) * (pro[i - 1] + y1)) / 2;
      }
      expect(area / 0.3).toBeCloseTo(aupro({ maps, masks, count, height, width }), 12);
    }
  });

  it('is undefined without an anomalous pixel, and names its own metric in errors', () => {
    expect(() => proCurve({ maps, masks: new Uint8Array(12), ...shape })).toThrow(MetricUndefinedError);
    expect(() => proCurve({ maps, masks: new Uint8Array(12), ...shape })).toThrow(/PRO curve/);
    expect(() => proCurve({ maps, masks, ...shape, maxFpr: 0 })).toThrow(/PRO curve/);
  });
});
