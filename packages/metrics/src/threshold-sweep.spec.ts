import { describe, expect, it } from 'vitest';
import { sortedClasses } from './sorted-classes';
import { forEachThreshold } from './threshold-sweep';

function steps(scores: number[], labels: number[], stopAfter = Infinity): number[][] {
  const out: number[][] = [];
  forEachThreshold(sortedClasses(Float64Array.from(scores), Uint8Array.from(labels)), (t, tp, fp) => {
    out.push([t, tp, fp]);
    return out.length < stopAfter;
  });
  return out;
}

describe('forEachThreshold', () => {
  it('visits each distinct score once, descending, with the counts scoring ≥ it (hand-worked)', () => {
    // positives 0.9, 0.5, 0.5; negatives 0.7, 0.5, 0.5, 0.1
    expect(steps([0.5, 0.7, 0.9, 0.1, 0.5, 0.5, 0.5], [1, 0, 1, 0, 0, 1, 0])).toEqual([
      [0.9, 1, 0],
      [0.7, 1, 1],
      [0.5, 3, 3], // the tie moves both classes, all of each, in one step
      [0.1, 3, 4],
    ]);
  });

  it('does not depend on sample order', () => {
    const scores = [0.3, 0.3, 0.2, 0.8, 0.3, 0.1];
    const labels = [1, 0, 1, 0, 0, 1];
    const order = [5, 2, 0, 4, 1, 3];
    expect(
      steps(
        order.map((i) => scores[i]),
        order.map((i) => labels[i]),
      ),
    ).toEqual(steps(scores, labels));
  });

  it('stops when the visitor returns false, and handles one empty class', () => {
    expect(steps([0.4, 0.2, 0.6], [1, 1, 1], 2)).toEqual([
      [0.6, 1, 0],
      [0.4, 2, 0],
    ]);
    expect(steps([0.4, 0.2], [0, 0])).toEqual([
      [0.4, 0, 1],
      [0.2, 0, 2],
    ]);
  });
});
