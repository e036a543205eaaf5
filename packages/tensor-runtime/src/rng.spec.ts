import { describe, expect, it } from 'vitest';
import { createRng } from './rng';

describe('createRng', () => {
  it('is reproducible from its seed and differs across seeds', () => {
    const a = Array.from({ length: 5 }, createRng(7).next);
    const b = Array.from({ length: 5 }, createRng(7).next);
    const c = Array.from({ length: 5 }, createRng(8).next);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('gives uniform values in [0,1) with mean ≈ 1/2 and normals with mean ≈ 0, variance ≈ 1', () => {
    const rng = createRng(1);
    const n = 20000;
    let su = 0,
      sn = 0,
      sn2 = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      su += u;
      const z = rng.normal();
      sn += z;
      sn2 += z * z;
    }
    expect(su / n).toBeCloseTo(0.5, 1);
    expect(sn / n).toBeCloseTo(0, 1);
    expect(sn2 / n).toBeCloseTo(1, 1);
  });

  it('forks independent, reproducible streams', () => {
    const r = createRng(3);
    expect(r.fork('a').next()).toBe(createRng(3).fork('a').next());
    expect(r.fork('a').next()).not.toBe(r.fork('b').next());
  });

  it('permutation holds every index once', () => {
    const p = createRng(5).permutation(100);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
