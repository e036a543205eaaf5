import { describe, expect, it } from 'vitest';
import { curvePoints } from './curve-points';

describe('curvePoints', () => {
  it('keeps the ends and every point that moved at least `step` on an axis; drops the rest', () => {
    const x = Float64Array.from({ length: 10001 }, (_, i) => i / 10000);
    const y = x.map((v) => Math.sqrt(v));
    const kept = curvePoints({ x, y, step: 0.01 });
    expect(kept[0]).toEqual({ x: 0, y: 0 });
    expect(kept.at(-1)).toEqual({ x: 1, y: 1 });
    expect(kept.length).toBeLessThan(250);
    for (let i = 1; i < kept.length - 1; i++)
      expect(Math.max(kept[i].x - kept[i - 1].x, kept[i].y - kept[i - 1].y)).toBeGreaterThanOrEqual(0.01);
    // no gap left wider than a step plus one original point
    for (let i = 1; i < kept.length; i++) expect(kept[i].x - kept[i - 1].x).toBeLessThan(0.0102);
  });

  it('stops after the first point at or beyond maxX, and refuses arrays of different lengths', () => {
    const kept = curvePoints({ x: [0, 0.1, 0.2, 0.3, 0.4], y: [0, 0.5, 0.6, 0.7, 0.8], step: 0, maxX: 0.25 });
    expect(kept.map((p) => p.x)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(() => curvePoints({ x: [0, 1], y: [0] })).toThrow(/x has 2 points, y 1/);
  });
});
