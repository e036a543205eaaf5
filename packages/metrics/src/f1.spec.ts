import { describe, expect, it } from 'vitest';
import { MetricUndefinedError } from './errors';
import { f1Max } from './f1';
import { randomInt, seededRandom } from './testing/seeded-random';

/** Reference: F1 at every distinct threshold counted directly; the lowest threshold wins ties. */
function naiveF1Max(scores: number[], labels: number[]) {
  const positives = labels.filter((l) => l === 1).length;
  let best = { f1: -1, threshold: NaN, precision: NaN, recall: NaN };
  for (const t of [...new Set(scores)].sort((a, b) => a - b)) {
    let tp = 0;
    let fp = 0;
    scores.forEach((s, i) => {
      if (s >= t && labels[i]) tp++;
      else if (s >= t) fp++;
    });
    const precision = tp / (tp + fp);
    const recall = tp / positives;
    const f1 = tp === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    // ascending thresholds: only a strictly better F1 (beyond rounding) replaces the lower threshold
    if (f1 > best.f1 + 1e-12) best = { f1, threshold: t, precision, recall };
  }
  return best;
}

describe('f1Max', () => {
  it('hand-worked n=4: t=.8 → 2/3, t=.4 → ½, t=.35 → P 2/3 R 1 F1 .8, t=.1 → 2/3; best .8 at .35', () => {
    const best = f1Max({ scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1] });
    expect(best.f1).toBeCloseTo(0.8, 15);
    expect(best.threshold).toBe(0.35);
    expect(best.precision).toBeCloseTo(2 / 3, 15);
    expect(best.recall).toBe(1);
  });

  it('tied scores are one step, and equal F1 resolves to the lowest threshold', () => {
    // [.9 a, .5 a, .5 n, .5 n, .2 n], P = 2: t=.9 → TP1 FP0: 2·1/(2+0+1) = 2/3;
    // t=.5 → TP2 FP2: 4/(4+2+0) = 2/3; t=.2 → TP2 FP3: 4/7. Best 2/3, lowest threshold .5.
    // Splitting the tie (the anomalous .5 first) would report TP2 FP0 → F1 = 1.
    for (const order of [
      [0, 1, 2, 3, 4],
      [4, 3, 2, 1, 0],
      [2, 0, 3, 1, 4],
    ]) {
      const scores = [0.9, 0.5, 0.5, 0.5, 0.2];
      const labels = [1, 1, 0, 0, 0];
      const best = f1Max({ scores: order.map((i) => scores[i]), labels: order.map((i) => labels[i]) });
      expect(best.f1).toBe(2 / 3);
      expect(best.threshold).toBe(0.5);
      expect(best.precision).toBe(0.5);
      expect(best.recall).toBe(1);
    }
  });

  it('all-equal scores predict everything anomalous: F1 = 2P/(2P+N)', () => {
    // P = 2, N = 2: precision ½, recall 1 → F1 = 2·½·1/(½+1) = 2/3
    const best = f1Max({ scores: [3, 3, 3, 3], labels: [0, 1, 0, 1] });
    expect(best).toEqual({ f1: 2 / 3, threshold: 3, precision: 0.5, recall: 1 });
  });

  it('perfect separation: F1 1 at the lowest anomalous score; inverted: best is predicting all (2/3)', () => {
    expect(f1Max({ scores: [1, 2, 3, 4], labels: [0, 0, 1, 1] })).toEqual({
      f1: 1,
      threshold: 3,
      precision: 1,
      recall: 1,
    });
    // [4 n, 3 n, 2 a, 1 a]: t=4,3 → TP 0: F1 0; t=2 → TP1 FP2: 2/5; t=1 → TP2 FP2: 4/6
    const inverted = f1Max({ scores: [4, 3, 2, 1], labels: [0, 0, 1, 1] });
    expect(inverted.f1).toBeCloseTo(2 / 3, 15);
    expect(inverted.threshold).toBe(1);
  });

  it('a single class is undefined, saying why', () => {
    expect(() => f1Max({ scores: [1, 2, 3], labels: [0, 0, 0] })).toThrow(MetricUndefinedError);
    expect(() =>
      f1Max({ scores: [1, 2, 3], labels: [0, 0, 0], names: { metric: 'I-F1max', samples: 'image labels' } }),
    ).toThrow('I-F1max is undefined: all 3 image labels are 0 (no anomalous sample, so recall is undefined)');
    expect(() => f1Max({ scores: [1, 2], labels: [1, 1] })).toThrow(
      /F1-max is undefined: all 2 labels are 1 \(need both classes/,
    );
  });

  it('rejects bad input like auroc', () => {
    expect(() => f1Max({ scores: [1, 2], labels: [0] })).toThrow(
      'F1-max: labels has 1 values, expected 2 (one per value of scores)',
    );
    expect(() => f1Max({ scores: [NaN, 1], labels: [0, 1] })).toThrow(/the first is NaN at index 0/);
    expect(() => f1Max({ scores: [], labels: [] })).toThrow(/empty/);
  });

  it('equals a per-threshold count on 200 random cases with ties', () => {
    const random = seededRandom(23);
    for (let trial = 0; trial < 200; trial++) {
      const n = 2 + randomInt(random, 50);
      const levels = 1 + randomInt(random, 10);
      const scores = Array.from({ length: n }, () => randomInt(random, levels) / levels);
      const labels = Array.from({ length: n }, (_, i) => (i < 2 ? i : random() < 0.4 ? 1 : 0));
      const expected = naiveF1Max(scores, labels);
      const best = f1Max({ scores, labels });
      expect(best.f1).toBeCloseTo(expected.f1, 12);
      expect(best.threshold).toBe(expected.threshold);
      expect(best.precision).toBeCloseTo(expected.precision, 12);
      expect(best.recall).toBeCloseTo(expected.recall, 12);
    }
  });
});
