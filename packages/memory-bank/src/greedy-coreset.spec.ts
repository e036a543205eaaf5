/**
 * The approximate greedy coreset against a plain statement of the reference's loop (every
 * distance computed, no skipping), on clustered points so the skipping is exercised; the
 * projection on both engines; the seeded draws; bad input. The reference code's own indices are
 * checked in @cfa/patchcore's official-parity spec.
 */
import { createRng, type EngineSelection, selectEngine } from '@cfa/tensor-runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { approximateGreedyCoreset, coresetDraws, coresetSize } from './greedy-coreset';

let ort: EngineSelection;
let tfjs: EngineSelection;
beforeAll(async () => {
  ort = await selectEngine({ requested: 'ort', threads: 1 });
  tfjs = await selectEngine({ requested: 'tfjs', tfBackend: 'wasm' });
});

/** `count` points [count, dim] around `clusters` centres of different spreads. */
function clustered(seed: number, count: number, dim: number, clusters: number): Float32Array {
  const rng = createRng(seed);
  const centres = Array.from({ length: clusters }, () => Array.from({ length: dim }, () => 3 * rng.normal()));
  const out = new Float32Array(count * dim);
  for (let i = 0; i < count; i++)
    for (let d = 0; d < dim; d++) out[i * dim + d] = centres[i % clusters][d] + (0.3 + (i % 5) / 5) * rng.normal();
  return out;
}

/** The reference's loop as written: mean distance to the starting points, then argmax / min over all points. */
function plainLoop(points: Float32Array, dim: number, size: number, starts: Int32Array): number[] {
  const n = points.length / dim;
  const dist = (i: number, j: number) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += (points[i * dim + d] - points[j * dim + d]) ** 2;
    return Math.sqrt(s);
  };
  const value = Float64Array.from(
    { length: n },
    (_, i) => [...starts].reduce((s, a) => s + dist(i, a), 0) / starts.length,
  );
  const chosen: number[] = [];
  for (let t = 0; t < size; t++) {
    let s = 0;
    for (let i = 1; i < n; i++) if (value[i] > value[s]) s = i;
    chosen.push(s);
    for (let i = 0; i < n; i++) value[i] = Math.min(value[i], dist(i, s));
  }
  return chosen;
}

/** rows · Wᵀ in float64. */
function project(rows: Float32Array, dim: number, w: Float32Array, out: number): Float32Array {
  const n = rows.length / dim;
  const y = new Float32Array(n * out);
  for (let i = 0; i < n; i++)
    for (let o = 0; o < out; o++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += rows[i * dim + d] * w[o * dim + d];
      y[i * out + o] = s;
    }
  return y;
}

const blocksOf = (points: Float32Array, dim: number, per: number) => {
  const n = points.length / dim;
  return {
    blocks: Math.ceil(n / per),
    block: async (b: number) => points.slice(b * per * dim, Math.min(n, (b + 1) * per) * dim),
  };
};

/** `size` of the 300 points [300, 8] selected in their own 8 dimensions (no projection), seeded draws. */
async function unprojectedSelection(points: Float32Array, seed: number, size: number) {
  const draws = coresetDraws({ seed, count: 300, dim: 8, projectionDim: 8 });
  const got = await approximateGreedyCoreset({
    engine: ort,
    ...blocksOf(points, 8, 300),
    count: 300,
    dim: 8,
    size,
    draws,
  });
  return { draws, indices: [...got.indices] };
}

describe('approximateGreedyCoreset', () => {
  it.each(['ort', 'tfjs'] as const)(
    '%s: selects what the plain loop selects on the projected points (600 points, 40 kept)',
    async (name) => {
      const dim = 24,
        count = 600;
      const points = clustered(3, count, dim, 12);
      const draws = coresetDraws({ seed: 5, count, dim, projectionDim: 8 });
      const expected = plainLoop(project(points, dim, draws.projection!, 8), 8, 40, draws.startPoints);
      const progress: string[] = [];
      const got = await approximateGreedyCoreset({
        engine: name === 'ort' ? ort : tfjs,
        ...blocksOf(points, dim, 64),
        count,
        dim,
        size: 40,
        draws,
        onProgress: (e) => progress.push(`${e.stage} ${e.done}/${e.total}`),
      });
      expect([...got.indices]).toEqual(expected);
      expect(new Set(got.indices).size).toBe(40);
      expect(progress[0]).toBe('project 1/10');
      expect(progress.at(-1)).toBe('select 40/40');
    },
  );

  it('without a projection (dim = projectionDim, as the reference skips it) it selects on the points themselves', async () => {
    const points = clustered(4, 300, 8, 6);
    const { draws, indices } = await unprojectedSelection(points, 1, 30);
    expect(draws.projection).toBeUndefined();
    expect(indices).toEqual(plainLoop(points, 8, 30, draws.startPoints));
  });

  it('breaks ties as torch.argmax (the first index): every point given twice, the lower copy is selected', async () => {
    const half = clustered(6, 150, 8, 5);
    const points = new Float32Array(2 * half.length);
    points.set(half, 0);
    points.set(half, half.length);
    const { draws, indices } = await unprojectedSelection(points, 2, 20);
    expect(indices).toEqual(plainLoop(points, 8, 20, draws.startPoints));
    expect(Math.max(...indices)).toBeLessThan(150);
  });

  it('refuses blocks that do not add up to the rows, and a size beyond them', async () => {
    const points = clustered(4, 50, 4, 3);
    const draws = coresetDraws({ seed: 1, count: 50, dim: 4, projectionDim: 4 });
    await expect(
      approximateGreedyCoreset({ engine: ort, ...blocksOf(points, 4, 50), count: 60, dim: 4, size: 5, draws }),
    ).rejects.toThrow(/the blocks held 50 rows, expected 60/);
    await expect(
      approximateGreedyCoreset({ engine: ort, ...blocksOf(points, 4, 50), count: 50, dim: 4, size: 51, draws }),
    ).rejects.toThrow(/size must be in \[0, 50\]/);
  });
});

describe('coresetDraws, coresetSize', () => {
  it('are a pure function of the seed: torch.nn.Linear’s U(±1/√D) projection and distinct starting points', () => {
    const a = coresetDraws({ seed: 7, count: 1000, dim: 64 });
    const b = coresetDraws({ seed: 7, count: 1000, dim: 64 });
    const c = coresetDraws({ seed: 8, count: 1000, dim: 64 });
    expect(a).toEqual(b);
    expect(a.projection).not.toEqual(c.projection);
    expect(a.projection!.length).toBe(128 * 64);
    expect(Math.max(...a.projection!.map(Math.abs))).toBeLessThanOrEqual(1 / 8);
    expect(Math.max(...a.projection!.map(Math.abs))).toBeGreaterThan(0.12);
    expect(new Set(a.startPoints).size).toBe(10);
    expect(coresetDraws({ seed: 1, count: 4, dim: 64 }).startPoints.length).toBe(4);
  });

  it('keeps ⌊N · fraction⌋ as the reference’s int(len · percentage)', () => {
    expect(coresetSize(31360, 0.1)).toBe(3136);
    expect(coresetSize(31360, 0.01)).toBe(313);
    expect(coresetSize(5, 1)).toBe(5);
    expect(() => coresetSize(5, 0)).toThrow(/fraction must be in \(0, 1\], got 0/);
  });
});
