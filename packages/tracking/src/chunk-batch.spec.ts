import { describe, expect, it } from 'vitest';
import { chunkBatch } from './chunk-batch';
import { LIMITS, normalizeBatch } from './validation';

describe('chunkBatch: requests within every log-batch limit', () => {
  const metrics = (n: number) => Array.from({ length: n }, (_, i) => ({ key: 'm', value: i, timestamp: 1, step: i }));
  const kv = (n: number, p = 'k', size = 1) =>
    Array.from({ length: n }, (_, i) => ({ key: `${p}${i}`, value: 'v'.repeat(size) }));
  const counts = (b: ReturnType<typeof chunkBatch>) => b.map((r) => [r.metrics.length, r.params.length, r.tags.length]);

  it('exactly at each limit: one request; one more: two', () => {
    expect(counts(chunkBatch('r', normalizeBatch({ metrics: metrics(1000) })))).toEqual([[1000, 0, 0]]);
    expect(counts(chunkBatch('r', normalizeBatch({ metrics: metrics(1001) })))).toEqual([
      [1000, 0, 0],
      [1, 0, 0],
    ]);
    expect(counts(chunkBatch('r', normalizeBatch({ params: kv(100) })))).toEqual([[0, 100, 0]]);
    expect(counts(chunkBatch('r', normalizeBatch({ params: kv(101) })))).toEqual([
      [0, 100, 0],
      [0, 1, 0],
    ]);
    expect(counts(chunkBatch('r', normalizeBatch({ tags: kv(101) })))).toEqual([
      [0, 0, 100],
      [0, 0, 1],
    ]);
    expect(counts(chunkBatch('r', normalizeBatch({ metrics: metrics(800), params: kv(100), tags: kv(100) })))).toEqual([
      [800, 100, 100],
    ]);
    expect(counts(chunkBatch('r', normalizeBatch({ metrics: metrics(801), params: kv(100), tags: kv(100) })))).toEqual([
      [800, 100, 100],
      [1, 0, 0],
    ]);
    expect(chunkBatch('r', normalizeBatch({}))).toEqual([]);
  });

  it('bodies stay within 1,000,000 bytes, and a body at exactly the limit is allowed', () => {
    const big = chunkBatch(
      '0123456789abcdef0123456789abcdef',
      normalizeBatch({ params: kv(100, 'p', 6000), tags: kv(100, 't', 8000) }),
    );
    expect(big.length).toBeGreaterThan(1);
    for (const body of big) expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThanOrEqual(LIMITS.batchBytes);
    const one = chunkBatch('r', normalizeBatch({ params: kv(1) }));
    const size = Buffer.byteLength(JSON.stringify(one[0]));
    expect(chunkBatch('r', normalizeBatch({ params: kv(1) }), { batchBytes: size })).toHaveLength(1);
    expect(chunkBatch('r', normalizeBatch({ params: kv(2) }), { batchBytes: size + 5 })).toHaveLength(2);
  });

  it('keeps order within each kind; NaN goes out as "NaN"', () => {
    const bodies = chunkBatch(
      'r',
      normalizeBatch({ metrics: [...metrics(1500), { key: 'n', value: NaN, timestamp: 1, step: 0 }] }),
    );
    expect(bodies.flatMap((b) => b.metrics.map((m) => m.step))).toEqual([
      ...Array.from({ length: 1500 }, (_, i) => i),
      0,
    ]);
    expect(bodies[1].metrics.at(-1)!.value).toBe('NaN');
  });
});
