import { describe, expect, it } from 'vitest';
import { MetricUndefinedError } from './errors';
import { auroc, rocCurve } from './roc';
import { randomInt, seededRandom } from './testing/seeded-random';
import { thrownBy } from './testing/thrown-by';

/** O(n²) reference: the fraction of (anomalous, normal) pairs ordered correctly, ties ½. */
function pairwiseAuroc(scores: number[], labels: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    for (let j = 0; j < scores.length; j++) {
      if (labels[i] !== 1 || labels[j] !== 0) continue;
      pairs++;
      wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

function trapezoidArea(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return area;
}

describe('auroc', () => {
  it('hand-worked n=4: pairs (.35>.1 ✓, .35>.4 ✗, .8>.1 ✓, .8>.4 ✓) → 3/4', () => {
    expect(auroc({ scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1] })).toBe(0.75);
  });

  it('a tie between classes counts ½: [.2 n, .5 n, .5 a, .9 a] → (1 + ½ + 1 + 1)/4 = .875, in any order', () => {
    expect(auroc({ scores: [0.2, 0.5, 0.5, 0.9], labels: [0, 0, 1, 1] })).toBe(0.875);
    // the tied pair in the other order: an order-dependent sweep would give 1 or 0.75 here
    expect(auroc({ scores: [0.9, 0.5, 0.5, 0.2], labels: [1, 1, 0, 0] })).toBe(0.875);
  });

  it('all-equal scores give 0.5; perfect separation 1; inverted 0', () => {
    expect(auroc({ scores: [3, 3, 3, 3, 3], labels: [0, 1, 1, 0, 1] })).toBe(0.5);
    expect(auroc({ scores: [1, 2, 3, 4], labels: [0, 0, 1, 1] })).toBe(1);
    expect(auroc({ scores: [4, 3, 2, 1], labels: [0, 0, 1, 1] })).toBe(0);
  });

  it('typed arrays and plain arrays give the same value (Float32Array scores, Uint8Array labels)', () => {
    const scores = [0.31, 0.7, 0.12, 0.7, 0.55, 0.9];
    const labels = [0, 1, 0, 0, 1, 1];
    // 3 positives × 3 normals: .7 > .31 ✓ .7 > .12 ✓ .7 = .7 ½ | .55 ✓ ✓ ✗ | .9 ✓ ✓ ✓ → 7.5/9
    expect(auroc({ scores, labels })).toBeCloseTo(7.5 / 9, 15);
    expect(auroc({ scores: Float32Array.from(scores), labels: Uint8Array.from(labels) })).toBeCloseTo(7.5 / 9, 15);
  });

  it('a single class is undefined, with a typed error naming the metric and the count', () => {
    const labels = new Uint8Array(30);
    const scores = Float32Array.from(labels, (_, i) => i / 30);
    const call = () => auroc({ scores, labels, names: { metric: 'I-AUROC', samples: 'image labels' } });
    expect(call).toThrow(MetricUndefinedError);
    expect(call).toThrow('I-AUROC is undefined: all 30 image labels are 0 (need both classes)');
    expect(() => auroc({ scores: [0.2, 0.1], labels: [1, 1] })).toThrow(
      'AUROC is undefined: all 2 labels are 1 (need both classes)',
    );
    expect(thrownBy(call)).toMatchObject({
      metric: 'I-AUROC',
      reason: 'all 30 image labels are 0 (need both classes)',
    });
  });

  it('rejects a length mismatch, empty input, NaN/Infinity scores and labels other than 0/1, naming each', () => {
    expect(() => auroc({ scores: [1, 2, 3], labels: [0, 1] })).toThrow(
      'AUROC: labels has 2 values, expected 3 (one per value of scores)',
    );
    expect(() => auroc({ scores: [], labels: [] })).toThrow(/AUROC: scores is empty/);
    expect(() => auroc({ scores: [1, NaN, 2, NaN], labels: [0, 1, 1, 0] })).toThrow(
      'AUROC: scores holds 2 non-finite values (NaN or ±Infinity); the first is NaN at index 1',
    );
    expect(() => auroc({ scores: Float32Array.of(1, 2, Infinity), labels: [0, 1, 1] })).toThrow(
      /holds 1 non-finite value .*the first is Infinity at index 2/,
    );
    expect(() => auroc({ scores: [1, 2, 3], labels: [0, 2, 1] })).toThrow(
      'AUROC: labels must hold only 0 and 1, but 1 value does not; the first is 2 at index 1',
    );
    expect(() => auroc({ scores: [1, 2], labels: [0, 255] })).toThrow(/divide it by 255/);
    expect(() =>
      auroc({ scores: [1, 2], labels: [0, 1], names: { scores: 'imageScores', labels: 'imageLabels' } }),
    ).not.toThrow();
    expect(() =>
      auroc({ scores: [1], labels: [0, 1], names: { scores: 'imageScores', labels: 'imageLabels' } }),
    ).toThrow('imageLabels has 2 values, expected 1 (one per value of imageScores)');
  });

  it('equals the O(n²) pairwise count on 200 random cases with many ties', () => {
    const random = seededRandom(11);
    for (let trial = 0; trial < 200; trial++) {
      const n = 2 + randomInt(random, 80);
      const levels = 1 + randomInt(random, 8); // few levels → many ties, within and across classes
      const scores = Array.from({ length: n }, () => randomInt(random, levels) / levels - 0.5);
      const labels = Array.from({ length: n }, (_, i) => (i < 2 ? i : random() < 0.3 ? 1 : 0));
      expect(auroc({ scores: Float32Array.from(scores), labels: Uint8Array.from(labels) })).toBeCloseTo(
        pairwiseAuroc(scores, labels),
        14,
      );
    }
  });
});

describe('rocCurve', () => {
  it('hand-worked n=4: thresholds .8 .4 .35 .1 → (0,½) (½,½) (½,1) (1,1) after (0,0)', () => {
    const curve = rocCurve({ scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1] });
    expect(Array.from(curve.fpr)).toEqual([0, 0, 0.5, 0.5, 1]);
    expect(Array.from(curve.tpr)).toEqual([0, 0.5, 0.5, 1, 1]);
    expect(Array.from(curve.thresholds)).toEqual([Infinity, 0.8, 0.4, 0.35, 0.1]);
  });

  it('drops only points on a straight line between their neighbours', () => {
    // perfect separation: (0,0) (0,½) (0,1) (½,1) (1,1) → corners (0,0) (0,1) (1,1)
    const dropped = rocCurve({ scores: [1, 2, 3, 4], labels: [0, 0, 1, 1] });
    expect(Array.from(dropped.fpr)).toEqual([0, 0, 1]);
    expect(Array.from(dropped.tpr)).toEqual([0, 1, 1]);
    expect(Array.from(dropped.thresholds)).toEqual([Infinity, 3, 1]);
    const all = rocCurve({ scores: [1, 2, 3, 4], labels: [0, 0, 1, 1], dropIntermediate: false });
    expect(Array.from(all.fpr)).toEqual([0, 0, 0, 0.5, 1]);
    expect(Array.from(all.thresholds)).toEqual([Infinity, 4, 3, 2, 1]);
  });

  it('has trapezoid area equal to auroc, and runs from (0,0) to (1,1) monotonically, on random data', () => {
    const random = seededRandom(5);
    for (let trial = 0; trial < 50; trial++) {
      const n = 2 + randomInt(random, 60);
      const scores = Array.from({ length: n }, () => randomInt(random, 6));
      const labels = Array.from({ length: n }, (_, i) => (i < 2 ? i : randomInt(random, 2)));
      for (const dropIntermediate of [true, false]) {
        const { fpr, tpr, thresholds } = rocCurve({ scores, labels, dropIntermediate });
        expect(trapezoidArea(fpr, tpr)).toBeCloseTo(pairwiseAuroc(scores, labels), 12);
        expect([fpr[0], tpr[0], fpr[fpr.length - 1], tpr[tpr.length - 1]]).toEqual([0, 0, 1, 1]);
        for (let i = 1; i < fpr.length; i++) {
          expect(fpr[i]).toBeGreaterThanOrEqual(fpr[i - 1]);
          expect(tpr[i]).toBeGreaterThanOrEqual(tpr[i - 1]);
          expect(thresholds[i]).toBeLessThan(thresholds[i - 1]);
        }
        if (!dropIntermediate) expect(fpr.length).toBe(new Set(scores).size + 1);
      }
    }
  });

  it('is undefined for a single class, like auroc', () => {
    expect(() => rocCurve({ scores: [1, 2], labels: [1, 1] })).toThrow(MetricUndefinedError);
  });
});
