import { describe, expect, it } from 'vitest';
import { composeAffine, invertAffine, lowerComposeAffine, lowerInvertAffine } from './affine-maps';
import { selectEngine } from './engine';
import { OnnxGraphBuilder } from './onnx-graph';
import { createOrtRunner } from './ort-session';
import { maxRelativeError } from './testing';

/** A pose k·R(φ) with shift (tx, ty), as `localise` makes them. */
const pose = (phi: number, k: number, tx: number, ty: number) => [
  k * Math.cos(phi),
  -k * Math.sin(phi),
  tx,
  k * Math.sin(phi),
  k * Math.cos(phi),
  ty,
];
const apply = (t: ArrayLike<number>, x: number, y: number) => [t[0] * x + t[1] * y + t[2], t[3] * x + t[4] * y + t[5]];

const outer = Float32Array.from([...pose(0.7, 1.1, 0.2, -0.1), ...pose(-2.5, 0.9, -0.15, 0.25)]);
const inner = Float32Array.from([...pose(-0.3, 1, 0.05, 0.1), 2, 0.5, 0.1, -0.4, 1.5, -0.2]);

describe('affine maps', () => {
  it('composeAffine applies inner then outer; invertAffine undoes a map', () => {
    const both = composeAffine(outer, inner, 2);
    for (let n = 0; n < 2; n++) {
      const o = outer.subarray(6 * n, 6 * n + 6),
        i = inner.subarray(6 * n, 6 * n + 6),
        c = both.subarray(6 * n, 6 * n + 6);
      const [x, y] = apply(i, 0.3, -0.6);
      const expected = apply(o, x, y);
      const got = apply(c, 0.3, -0.6);
      expect(got[0]).toBeCloseTo(expected[0], 5);
      expect(got[1]).toBeCloseTo(expected[1], 5);
    }
    const identity = composeAffine(invertAffine(both, 2), both, 2);
    expect(maxRelativeError(identity, Float32Array.from([1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0]))).toBeLessThan(1e-5);
  });

  it('a singular map is named, not inverted', () => {
    expect(() => invertAffine(Float32Array.from([1, 2, 0, 2, 4, 0]), 1)).toThrow(/image 0's map is singular/);
    expect(() => composeAffine(outer, inner, 3)).toThrow(/outer holds 12 values, \[3, 2, 3\] needs 18/);
  });

  it('the ONNX lowerings match the typed arrays', async () => {
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const g = new OnnxGraphBuilder('affine-maps');
    const a = g.input('outer', ['n', 2, 3]);
    const b = g.input('inner', ['n', 2, 3]);
    g.namedOutput(lowerInvertAffine(g, lowerComposeAffine(g, a, b, 'chain')), 'back', ['n', 2, 3]);
    const runner = await createOrtRunner(engine, g.toBytes(), 'affine-maps');
    const out = await runner.run({ outer: { data: outer, dims: [2, 2, 3] }, inner: { data: inner, dims: [2, 2, 3] } });
    await runner.release();
    expect(
      maxRelativeError(out.back.data as Float32Array, invertAffine(composeAffine(outer, inner, 2), 2)),
    ).toBeLessThan(1e-5);
  });
});
