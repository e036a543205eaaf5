import { describe, expect, it } from 'vitest';
import { connectedComponents } from './connected-components';
import { naivePartition } from './testing/naive-partition';
import { randomInt, seededRandom } from './testing/seeded-random';

/** Two labellings describe the same partition iff their label pairs map one-to-one. */
function samePartition(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    if ((a[i] === 0) !== (b[i] === 0)) return false;
    if ((ab.get(a[i]) ?? b[i]) !== b[i] || (ba.get(b[i]) ?? a[i]) !== a[i]) return false;
    ab.set(a[i], b[i]);
    ba.set(b[i], a[i]);
  }
  return true;
}

describe('connectedComponents', () => {
  it('a diagonal line is one region with 8-connectivity and three with 4', () => {
    // 1 0 0
    // 0 1 0
    // 0 0 1
    const mask = Uint8Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
    const eight = connectedComponents({ mask, height: 3, width: 3 });
    expect(eight.count).toBe(1);
    expect(Array.from(eight.sizes)).toEqual([0, 3]);
    expect(Array.from(eight.labels)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const four = connectedComponents({ mask, height: 3, width: 3, connectivity: 4 });
    expect(four.count).toBe(3);
    expect(Array.from(four.sizes)).toEqual([0, 1, 1, 1]);
    expect(Array.from(four.labels)).toEqual([1, 0, 0, 0, 2, 0, 0, 0, 3]);
  });

  it('labels a non-square mask in raster order with the right sizes (2 rows × 5 columns)', () => {
    // 1 1 0 0 1
    // 0 0 0 1 1    → region 1 = {(0,0),(0,1)} size 2; region 2 = {(0,4),(1,3),(1,4)} size 3
    const mask = [1, 1, 0, 0, 1, 0, 0, 0, 1, 1];
    const { labels, count, sizes } = connectedComponents({ mask, height: 2, width: 5 });
    expect(count).toBe(2);
    expect(Array.from(labels)).toEqual([1, 1, 0, 0, 2, 0, 0, 0, 2, 2]);
    expect(Array.from(sizes)).toEqual([0, 2, 3]);
  });

  it('follows a U shape back up (one region, not two as a single raster pass would give)', () => {
    // 1 0 1
    // 1 0 1
    // 1 1 1
    const { count, sizes } = connectedComponents({
      mask: [1, 0, 1, 1, 0, 1, 1, 1, 1],
      height: 3,
      width: 3,
      connectivity: 4,
    });
    expect(count).toBe(1);
    expect(sizes[1]).toBe(7);
  });

  it('handles an empty and a full mask; nonzero values count as foreground', () => {
    expect(connectedComponents({ mask: new Uint8Array(12), height: 3, width: 4 }).count).toBe(0);
    const full = connectedComponents({ mask: new Uint8Array(12).fill(255), height: 3, width: 4 });
    expect(full.count).toBe(1);
    expect(full.sizes[1]).toBe(12);
  });

  it('rejects a mask whose length is not height × width, and an unknown connectivity', () => {
    expect(() => connectedComponents({ mask: new Uint8Array(5), height: 2, width: 3 })).toThrow(
      'connectedComponents: mask has 5 values, expected 6 (height 2 × width 3)',
    );
    expect(() => connectedComponents({ mask: new Uint8Array(4), height: 2, width: 2, connectivity: 6 as 4 })).toThrow(
      /connectivity must be 4 or 8, got 6/,
    );
  });

  it('matches a naive min-label propagation on 100 random masks, both connectivities', () => {
    const random = seededRandom(3);
    for (let trial = 0; trial < 100; trial++) {
      const height = 1 + randomInt(random, 12);
      const width = 1 + randomInt(random, 12);
      const density = random();
      const mask = Array.from({ length: height * width }, () => (random() < density ? 1 : 0));
      for (const connectivity of [4, 8] as const) {
        const result = connectedComponents({ mask, height, width, connectivity });
        const expected = naivePartition(mask, height, width, connectivity);
        expect(samePartition(result.labels, expected)).toBe(true);
        expect(result.count).toBe(new Set(expected.filter((v) => v)).size);
        for (let id = 1; id <= result.count; id++) {
          expect(result.sizes[id]).toBe(result.labels.filter((v) => v === id).length);
        }
      }
    }
  });
});
