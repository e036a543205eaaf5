import { createRng } from '@cfa/tensor-runtime';
import { describe, expect, it } from 'vitest';
import { principalAxes, projectRows } from './pca';

describe('principalAxes', () => {
  // 400 points in 5-D: spread 3 along u, 1 along v (orthogonal unit vectors), 0.05 noise, offset m
  const dim = 5;
  const u = [1, 1, 0, 0, 0].map((x) => x / Math.SQRT2);
  const v = [0, 0, 1, -1, 1].map((x) => x / Math.sqrt(3));
  const m = [2, -1, 0.5, 3, 0];
  const rng = createRng(4);
  const count = 400;
  const rows = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const a = 3 * rng.normal(),
      b = rng.normal();
    for (let j = 0; j < dim; j++) rows[i * dim + j] = m[j] + a * u[j] + b * v[j] + 0.05 * rng.normal();
  }

  it('finds the directions of largest spread in order, orthonormal, largest component positive', () => {
    const { mean, axes } = principalAxes({ rows, count, dim });
    mean.forEach((x, j) => expect(x).toBeCloseTo(m[j], 0));
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, j) => s + x * b[j], 0);
    expect(Math.abs(dot(axes[0], u))).toBeGreaterThan(0.999);
    expect(Math.abs(dot(axes[1], v))).toBeGreaterThan(0.999);
    expect(dot(axes[0], axes[1])).toBeCloseTo(0, 10);
    expect(dot(axes[0], axes[0])).toBeCloseTo(1, 10);
    for (const a of axes) {
      const largest = Array.from(a).reduce((k, x, j) => (Math.abs(x) > Math.abs(a[k]) ? j : k), 0);
      expect(a[largest]).toBeGreaterThan(0);
    }
  });

  it('projects rows onto the axes: the coordinates spread as the data does along u and v', () => {
    const basis = principalAxes({ rows, count, dim });
    const xy = projectRows({ rows, count, dim, basis });
    expect(xy).toHaveLength(2 * count);
    const std = (values: number[]) => Math.sqrt(values.reduce((a, b) => a + b * b, 0) / values.length);
    const along = (w: number[]) =>
      std(
        Array.from({ length: count }, (_, i) =>
          w.reduce((s, wj, j) => s + wj * (rows[i * dim + j] - basis.mean[j]), 0),
        ),
      );
    const coordinate = (k: number) => std(Array.from({ length: count }, (_, i) => xy[2 * i + k]));
    expect(coordinate(0) / along(u)).toBeCloseTo(1, 2);
    expect(coordinate(1) / along(v)).toBeCloseTo(1, 2);
    expect(() => projectRows({ rows, count: count + 1, dim, basis })).toThrow(/rows must hold \[401, 5\]/);
  });
});
