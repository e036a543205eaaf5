import { createOrtRunner, createRng, OnnxGraphBuilder, selectEngine } from '@cfa/tensor-runtime';
import { describe, expect, it } from 'vitest';
import { exactSquaredDistances } from './exact-distances';
import { createMemoryBank } from './memory-bank';
import { lowerExactSquaredDistances } from './nearest-onnx';
import { createNearestSearch } from './nearest-search';

/** Points with large norms and small distances between them (PatchCore's features: ‖f‖² ≈ 500, d² ≈ 1). */
function offsetPoints(seed: number, count: number, dim: number, base: number[]): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: count * dim }, (_, i) => base[i % dim] + 0.1 * rng.normal());
}

describe('exactSquaredDistances', () => {
  const dim = 64;
  const rng = createRng(1);
  const base = Array.from({ length: dim }, () => 3 * rng.normal());
  const bank = createMemoryBank(offsetPoints(2, 50, dim, base), 50, dim);
  const queries = offsetPoints(3, 20, dim, base);
  const direct = (p: number, m: number) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += (queries[p * dim + d] - bank.centres[m * dim + d]) ** 2;
    return s;
  };

  it('recomputes the found neighbours’ distances as Σ (q − c)²; the search’s expanded form is further off', async () => {
    const search = await createNearestSearch({ engine: await selectEngine({ requested: 'ort', threads: 1 }), dim });
    const found = await search.nearest(queries, 20, bank, 2);
    await search.release();
    const exact = exactSquaredDistances({ queries, count: 20, bank, indices: found.indices, k: 2 });
    let worstExact = 0,
      worstExpanded = 0;
    for (let i = 0; i < 40; i++) {
      const truth = direct(Math.floor(i / 2), found.indices[i]);
      worstExact = Math.max(worstExact, Math.abs(exact[i] - truth) / truth);
      worstExpanded = Math.max(worstExpanded, Math.abs(found.distances[i] - truth) / truth);
    }
    expect(worstExact).toBeLessThan(1e-6);
    expect(worstExpanded).toBeGreaterThan(10 * worstExact);
  });

  it('the ONNX piece gives the same distances, gathering from Cᵀ', async () => {
    const indices = Int32Array.from({ length: 40 }, (_, i) => (i * 7) % 50);
    const g = new OnnxGraphBuilder('exact');
    const q = g.input('q', [20, dim]);
    const ct = g.initializer('ct', bank.transposed, [dim, 50]);
    const idx = g.initializer(
      'idx',
      BigInt64Array.from(indices, (v) => BigInt(v)),
      [20, 2],
    );
    g.namedOutput(lowerExactSquaredDistances(g, q, ct, idx), 'd', [20, 2]);
    const runner = await createOrtRunner(await selectEngine({ requested: 'ort', threads: 1 }), g.toBytes(), 'exact');
    const out = (await runner.run({ q: { data: queries, dims: [20, dim] } })).d.data as Float32Array;
    await runner.release();
    const expected = exactSquaredDistances({ queries, count: 20, bank, indices, k: 2 });
    out.forEach((v, i) => expect(Math.abs(v - expected[i]) / expected[i]).toBeLessThan(1e-5));
  });

  it('refuses an index outside the bank', () => {
    expect(() =>
      exactSquaredDistances({
        queries: queries.subarray(0, dim),
        count: 1,
        bank,
        indices: Int32Array.from([50]),
        k: 1,
      }),
    ).toThrow(/index 50 is outside the bank of 50/);
  });
});
