import * as tf from '@tensorflow/tfjs-core';
import { createRng, selectEngine } from '@cfa/tensor-runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMemoryBank } from './memory-bank';
import { createNearestSearch } from './nearest-search';

beforeAll(async () => {
  await selectEngine({ requested: 'tfjs', tfBackend: 'wasm' });
});

function bruteForce(q: Float32Array, p: number, c: Float32Array, m: number, dim: number, k: number) {
  const rows: { d: number; i: number }[][] = [];
  for (let a = 0; a < p; a++) {
    const row = [];
    for (let b = 0; b < m; b++) {
      let d = 0;
      for (let j = 0; j < dim; j++) d += (q[a * dim + j] - c[b * dim + j]) ** 2;
      row.push({ d, i: b });
    }
    rows.push(row.sort((x, y) => x.d - y.d).slice(0, k));
  }
  return rows;
}

describe.each(['ort', 'tfjs'] as const)('createNearestSearch on %s', (engineName) => {
  it('q=[2,2] c=[3,2] k=2: hand-computed squared distances and indices, ascending', async () => {
    const engine = await selectEngine({ requested: engineName, tfBackend: 'wasm', threads: 1 });
    const search = await createNearestSearch({ engine, dim: 2 });
    const bank = createMemoryBank(new Float32Array([0, 0, 3, 4, 1, 0]), 3, 2);
    const { distances, indices } = await search.nearest(new Float32Array([0, 0, 3, 3]), 2, bank, 2);
    // (0,0): to c0 0, c1 25, c2 1 → [0 (c0), 1 (c2)]; (3,3): c0 18, c1 1, c2 13 → [1 (c1), 13 (c2)]
    expect(Array.from(distances)).toEqual([0, 1, 1, 13]);
    expect(Array.from(indices)).toEqual([0, 2, 1, 2]);
    expect(Array.from(await search.distanceMatrix(new Float32Array([0, 0]), 1, bank))).toEqual([0, 25, 1]);
    await search.release();
  });

  it('blocked search (blockRows 7) over 50 queries × 40 centres matches brute force, without leaking tensors', async () => {
    const engine = await selectEngine({ requested: engineName, tfBackend: 'wasm', threads: 1 });
    const search = await createNearestSearch({ engine, dim: 5, blockRows: 7 });
    const rng = createRng(11);
    const q = Float32Array.from({ length: 50 * 5 }, () => rng.normal());
    const c = Float32Array.from({ length: 40 * 5 }, () => rng.normal());
    const bank = createMemoryBank(c, 40, 5);
    const before = tf.memory().numTensors;
    const { distances, indices } = await search.nearest(q, 50, bank, 6);
    await search.release();
    expect(tf.memory().numTensors).toBe(before);
    bruteForce(q, 50, c, 40, 5, 6).forEach((row, a) =>
      row.forEach(({ d, i }, j) => {
        expect(indices[a * 6 + j]).toBe(i);
        expect(distances[a * 6 + j]).toBeCloseTo(d, 4);
      }),
    );
  });

  it('names bad arguments', async () => {
    const engine = await selectEngine({ requested: engineName, tfBackend: 'wasm', threads: 1 });
    const search = await createNearestSearch({ engine, dim: 2 });
    const bank = createMemoryBank(new Float32Array(6), 3, 2);
    await expect(search.nearest(new Float32Array(4), 2, bank, 4)).rejects.toThrow(
      /k must be in \[1, 3\] \(the bank size\), got 4/,
    );
    await expect(search.nearest(new Float32Array(5), 2, bank, 1)).rejects.toThrow(
      /queries must hold \[2, 2\] = 4 values, got 5/,
    );
    await search.release();
  });
});
