import { describe, expect, it } from 'vitest';
import { connectedComponents } from './connected-components';
import { MetricUndefinedError } from './errors';
import { computeAnomalyMetrics } from './evaluate';
import { f1Max } from './f1';
import { aupro } from './pro';
import { auroc } from './roc';

/** Seeded LCG for the property tests. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('auroc', () => {
  it('hand-worked: scores [.1,.4,.35,.8], labels [0,0,1,1] → pairs (.35>.1 ✓, .35>.4 ✗, .8>.1 ✓, .8>.4 ✓) = 3/4', () => {
    expect(auroc({ scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1] })).toBe(0.75);
  });

  it('ties count ½; all-equal scores give ½; perfect and inverted separation give 1 and 0', () => {
    expect(auroc({ scores: [0.5, 0.5, 0.5], labels: [0, 1, 1] })).toBe(0.5);
    expect(auroc({ scores: [0.2, 0.5, 0.5, 0.9], labels: [0, 0, 1, 1] })).toBe((1 + 0.5 + 1 + 1) / 4);
    expect(auroc({ scores: [1, 2, 3, 4], labels: [0, 0, 1, 1] })).toBe(1);
    expect(auroc({ scores: [4, 3, 2, 1], labels: [0, 0, 1, 1] })).toBe(0);
  });

  it('a single class is undefined, with the count in the message', () => {
    expect(() => auroc({ scores: [1, 2, 3], labels: [0, 0, 0], name: 'I-AUROC' })).toThrow(MetricUndefinedError);
    expect(() => auroc({ scores: [1, 2, 3], labels: [0, 0, 0], name: 'I-AUROC' })).toThrow(/I-AUROC is undefined: all 3 labels are 0 \(need both classes\)/);
  });

  it('names bad input: length mismatch, NaN scores, labels other than 0/1, empty', () => {
    expect(() => auroc({ scores: [1, 2], labels: [0] })).toThrow(/scores has 2 values but labels has 1/);
    expect(() => auroc({ scores: [1, NaN, NaN], labels: [0, 1, 1] })).toThrow(/holds 2 non-finite values \(first at index 1: NaN\)/);
    expect(() => auroc({ scores: [1, 2], labels: [0, 2] })).toThrow(/labels must be 0 or 1, found 2 at index 1/);
    expect(() => auroc({ scores: [], labels: [] })).toThrow(/empty/);
  });

  it('equals a naive pairwise count on random data with many ties', () => {
    const r = rng(1);
    for (let trial = 0; trial < 20; trial++) {
      const n = 5 + Math.floor(r() * 60);
      const scores = Array.from({ length: n }, () => Math.floor(r() * 6));
      const labels = Array.from({ length: n }, (_, i) => (i < 2 ? i : r() < 0.4 ? 1 : 0));
      let s = 0, pairs = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
        if (labels[i] === 1 && labels[j] === 0) {
          pairs++;
          s += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
        }
      }
      expect(auroc({ scores, labels })).toBeCloseTo(s / pairs, 12);
    }
  });
});

describe('f1Max', () => {
  it('hand-worked: at t=.35 → tp 2, fp 1: P=2/3, R=1, F1=.8 (t=.8 gives .667)', () => {
    const best = f1Max({ scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1] });
    expect(best.f1).toBeCloseTo(0.8, 12);
    expect(best.threshold).toBe(0.35);
    expect(best.precision).toBeCloseTo(2 / 3, 12);
    expect(best.recall).toBe(1);
  });

  it('all-equal scores: everything predicted anomalous; no positives is undefined', () => {
    const best = f1Max({ scores: [3, 3, 3, 3], labels: [0, 1, 0, 1] });
    expect(best.f1).toBeCloseTo((2 * 0.5 * 1) / 1.5, 12);
    expect(() => f1Max({ scores: [1, 2], labels: [0, 0] })).toThrow(/no anomalous sample among 2/);
  });
});

describe('connectedComponents', () => {
  it('a diagonal pair is one region with 8-connectivity and two with 4', () => {
    const mask = Uint8Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(connectedComponents({ mask, width: 3, height: 3 }).count).toBe(1);
    const four = connectedComponents({ mask, width: 3, height: 3, connectivity: 4 });
    expect(four.count).toBe(3);
    expect(Array.from(four.sizes)).toEqual([0, 1, 1, 1]);
  });
});

describe('aupro', () => {
  it('a perfect map scores 1, an inverted one 0', () => {
    const masks = Uint8Array.from([0, 1, 1, 0, 0, 0, 0, 1]);
    const perfect = Float32Array.from(masks, (v) => v);
    expect(aupro({ maps: perfect, masks, count: 2, height: 2, width: 2 })).toBeCloseTo(1, 12);
    expect(aupro({ maps: Float32Array.from(masks, (v) => 1 - v), masks, count: 2, height: 2, width: 2 })).toBeCloseTo(0, 12);
  });

  it('hand-worked: two regions of different size in two images', () => {
    // image A (1×4): region R1 = pixels 0,1 with scores .9, .2; normals .5, .1
    // image B (1×4): region R2 = pixel 3 with score .6; normals .3, .2, .05
    // normals sorted desc: .5 .3 .2 .1 .05 (N = 5); R = 2 regions, |R1| = 2, |R2| = 1
    // thresholds: .9 → PRO = ½·½ = .25, FPR 0 | .6 → PRO .75, FPR 0 | .5 → FPR .2 | .3 → FPR .4 …
    // with fprLimit .4: area = 0·… + trapezoid (0→.2 at .75) + (.2→.4 at .75) = .3 → /.4 = .75
    //   (.2 appears in both: at t=.2 R1's second pixel crosses too, but FPR is .6 by then)
    const maps = Float32Array.from([0.9, 0.2, 0.5, 0.1, 0.3, 0.2, 0.05, 0.6]);
    const masks = Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 1]);
    expect(aupro({ maps, masks, count: 2, height: 1, width: 4, fprLimit: 0.4 })).toBeCloseTo(0.75, 12);
    // fprLimit .5 interpolates between FPR .4 (PRO .75) and FPR .6 (PRO 1 after t=.2): PRO(.5) = .875
    // area = .3 + (.1·(.75 + .875)/2) = .38125 → /.5
    expect(aupro({ maps, masks, count: 2, height: 1, width: 4, fprLimit: 0.5 })).toBeCloseTo(0.38125 / 0.5, 12);
  });

  it('equals a naive per-threshold computation on random maps', () => {
    const r = rng(7);
    for (let trial = 0; trial < 10; trial++) {
      const count = 3, h = 6, w = 6, per = h * w;
      const masks = new Uint8Array(count * per);
      for (let i = 0; i < masks.length; i++) masks[i] = r() < 0.25 ? 1 : 0;
      const maps = Float32Array.from(masks, (m) => Math.round((r() + 0.4 * m) * 20) / 20);
      // naive: thresholds descending, PRO from components, FPR over normals, trapezoid to .3
      const regions: { image: number; pixels: number[] }[] = [];
      for (let n = 0; n < count; n++) {
        const cc = connectedComponents({ mask: masks.subarray(n * per, (n + 1) * per), width: w, height: h });
        for (let k = 1; k <= cc.count; k++) regions.push({ image: n, pixels: [...cc.labels.keys()].filter((i) => cc.labels[i] === k).map((i) => n * per + i) });
      }
      const normals = [...maps.keys()].filter((i) => !masks[i]);
      const ts = [...new Set(maps)].sort((a, b) => b - a);
      const pts: [number, number][] = [[0, 0]];
      for (const t of ts) {
        const fpr = normals.filter((i) => maps[i] >= t).length / normals.length;
        const pro = regions.reduce((s, g) => s + g.pixels.filter((i) => maps[i] >= t).length / g.pixels.length, 0) / regions.length;
        pts.push([fpr, pro]);
      }
      let area = 0;
      for (let k = 1; k < pts.length; k++) {
        const [x0, y0] = pts[k - 1];
        let [x1, y1] = pts[k];
        if (x0 >= 0.3) break;
        if (x1 > 0.3) {
          y1 = y0 + ((y1 - y0) * (0.3 - x0)) / (x1 - x0);
          x1 = 0.3;
        }
        area += ((x1 - x0) * (y0 + y1)) / 2;
      }
      expect(aupro({ maps, masks, count, height: h, width: w })).toBeCloseTo(area / 0.3, 10);
    }
  });

  it('masks without regions are undefined', () => {
    expect(() => aupro({ maps: new Float32Array(4), masks: new Uint8Array(4), count: 1, height: 2, width: 2 })).toThrow(/P-AUPRO is undefined: no anomalous region in 1 masks/);
  });
});

describe('computeAnomalyMetrics', () => {
  it('reports every metric, and NaN with a reason for the undefined ones', () => {
    const maps = Float32Array.from([0.9, 0.1, 0.2, 0.1, 0.8, 0.7, 0.3, 0.2]);
    const masks = Uint8Array.from([1, 0, 0, 0, 1, 1, 0, 0]);
    const m = computeAnomalyMetrics({ imageScores: [0.9, 0.8], imageLabels: [1, 1], maps, masks, count: 2, height: 2, width: 2 });
    expect(m.pixelAuroc).toBe(1);
    expect(m.pixelAupro).toBeCloseTo(1, 12);
    expect(m.pixelF1Max).toBe(1);
    expect(Number.isNaN(m.imageAuroc)).toBe(true);
    expect(m.undefinedMetrics.imageAuroc).toMatch(/I-AUROC is undefined: all 2 labels are 1/);
    expect(() => computeAnomalyMetrics({ imageScores: [1], imageLabels: [1], maps, masks, count: 2, height: 2, width: 2 })).toThrow(/imageScores has 1 values, count is 2/);
  });
});
