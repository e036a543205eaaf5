import { createRng, selectEngine } from '@cfa/tensor-runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { kmeans, kmeansPlusPlus } from './kmeans';
import { createMemoryBank } from './memory-bank';
import { createNearestSearch, type NearestSearch } from './nearest-search';
import { greedyMatch, paperMemoryBank } from './paper-init';
import { RunningMean, referenceMemoryBank } from './reference-init';

let search: NearestSearch;
beforeAll(async () => {
  const engine = await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 1 });
  search = await createNearestSearch({ engine, dim: 2 });
});

/** Three tight, well-separated blobs of 20 points each around (0,0), (10,0), (0,10). */
function blobs(seed: number): Float32Array {
  const rng = createRng(seed);
  const centres = [
    [0, 0],
    [10, 0],
    [0, 10],
  ];
  const out = new Float32Array(60 * 2);
  for (let i = 0; i < 60; i++) {
    const [cx, cy] = centres[Math.floor(i / 20)];
    out[i * 2] = cx + 0.1 * rng.normal();
    out[i * 2 + 1] = cy + 0.1 * rng.normal();
  }
  return out;
}

describe('kmeans', () => {
  it('finds three separated blobs: each centre within 0.1 of a true centre, each blob one cluster', async () => {
    const points = blobs(1);
    const { centres, assignment } = await kmeans({ points, count: 60, dim: 2, k: 3, seed: 0, search });
    const found = [0, 1, 2]
      .map((c) => [centres[c * 2], centres[c * 2 + 1]])
      .sort((a, b) => a[0] + 2 * a[1] - (b[0] + 2 * b[1]));
    expect(found[0][0]).toBeCloseTo(0, 0);
    expect(found[1]).toEqual([expect.closeTo(10, 0), expect.closeTo(0, 0)]);
    expect(found[2]).toEqual([expect.closeTo(0, 0), expect.closeTo(10, 0)]);
    for (let blob = 0; blob < 3; blob++) expect(new Set(assignment.slice(blob * 20, blob * 20 + 20)).size).toBe(1);
  });

  it('is a pure function of the seed', async () => {
    const points = blobs(2);
    const a = await kmeans({ points, count: 60, dim: 2, k: 5, seed: 3, search });
    const b = await kmeans({ points, count: 60, dim: 2, k: 5, seed: 3, search });
    expect(a.centres).toEqual(b.centres);
  });

  it('k-means++ picks distinct points and refuses k > n', () => {
    const c = kmeansPlusPlus(blobs(3), 60, 2, 3, 0);
    const xs = [0, 1, 2].map((i) => `${c[i * 2]},${c[i * 2 + 1]}`);
    expect(new Set(xs).size).toBe(3);
    expect(() => kmeansPlusPlus(new Float32Array(4), 2, 2, 3, 0)).toThrow(/k = 3 exceeds the number of points \(2\)/);
  });
});

describe('reference init', () => {
  it('RunningMean is the exact per-location mean over all added images', () => {
    const mean = new RunningMean(2);
    mean.add(new Float32Array([1, 2, 3, 4]), 2);
    mean.add(new Float32Array([5, 9]), 1);
    expect(Array.from(mean.value())).toEqual([3, 5]);
    expect(mean.count).toBe(3);
    expect(() => mean.add(new Float32Array(3), 2)).toThrow(/expected 2 × 2 values, got 3/);
  });

  it('γc = 1 keeps the HW means; γc = 20 gives ⌊60/20⌋ = 3 centres', async () => {
    const points = blobs(4);
    const full = await referenceMemoryBank({ meanPhi: points, hw: 60, dim: 2, gammaC: 1, seed: 0, search });
    expect(full.size).toBe(60);
    expect(full.centres).toEqual(points);
    expect(full.squaredNorms[0]).toBeCloseTo(points[0] ** 2 + points[1] ** 2, 5);
    const compressed = await referenceMemoryBank({ meanPhi: points, hw: 60, dim: 2, gammaC: 20, seed: 0, search });
    expect(compressed.size).toBe(3);
  });
});

describe('paper Algorithm 1', () => {
  it('greedyMatch gives each centre its nearest unmatched feature, in centre order', () => {
    // 2 centres × 3 features: both prefer feature 1; centre 0 takes it, centre 1 falls back to its next best (2)
    const d = new Float32Array([5, 1, 9, 4, 0.5, 2]);
    expect(Array.from(greedyMatch(d, 2, 3))).toEqual([1, 2]);
  });

  it('EMA with β: C₁ = (1−β)C₀ + β·matched', async () => {
    const first = new Float32Array([0, 0, 10, 10]); // hw = 2, γc = 1 → C₀ = first image's features
    const second = new Float32Array([11, 10, 1, 0]);
    const bank = await paperMemoryBank({ phis: [first, second], hw: 2, dim: 2, gammaC: 1, beta: 0.5, seed: 0, search });
    // centre (0,0) matches (1,0); centre (10,10) matches (11,10)
    expect(Array.from(bank.centres)).toEqual([0.5, 0, 10.5, 10]);
  });

  it('refuses β outside (0, 1] and an empty train set', async () => {
    await expect(paperMemoryBank({ phis: [], hw: 2, dim: 2, gammaC: 1, beta: 0, seed: 0, search })).rejects.toThrow(
      /beta must be in \(0, 1\], got 0/,
    );
    await expect(paperMemoryBank({ phis: [], hw: 2, dim: 2, gammaC: 1, beta: 0.1, seed: 0, search })).rejects.toThrow(
      /gave no images/,
    );
  });

  it('compresses with k-means on the first image when γc > 1', async () => {
    const bank = await paperMemoryBank({
      phis: [blobs(5), blobs(6)],
      hw: 60,
      dim: 2,
      gammaC: 20,
      beta: 0.1,
      seed: 0,
      search,
    });
    expect(bank.size).toBe(3);
    expect(createMemoryBank(bank.centres, 3, 2).squaredNorms.length).toBe(3);
  });
});
