/**
 * The disk feature cache: what goes in comes back (float16 rounding, or exactly in float32), and
 * a damaged entry is a miss, never wrong numbers.
 */
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float16ToFloat32, float32ToFloat16 } from '@cfa/backbone';
import { createRng } from '@cfa/tensor-runtime';
import { describe, expect, it } from 'vitest';
import { DiskEmbeddingCache, embeddingKey } from './embedding-cache';

const key = (i: number) =>
  embeddingKey({
    sourceHash: `image-${i}`,
    view: 'center-crop:256:224',
    backbone: 'random:resnet18:0',
    inputSize: 224,
  });

function values(n: number): Float32Array {
  const rng = createRng(7);
  const v = Float32Array.from({ length: n }, () => rng.normal() * 3);
  v.set([0, -0, 65504, 1e-6, -2.5e-8, 1234.5], 0); // largest half, a subnormal half, one that flushes to zero, a tie
  return v;
}

describe('DiskEmbeddingCache', () => {
  it('float16 entries come back as float32ToFloat16 → float16ToFloat32 of every value', async () => {
    const cache = new DiskEmbeddingCache(await mkdtemp(join(tmpdir(), 'cache-f16-')));
    const v = values(5001); // odd length
    const returned = await cache.set(key(1), v);
    const back = (await cache.get(key(1)))!;
    expect(Array.from(returned), 'set returns what get gives back').toEqual(Array.from(back));
    expect(back).toHaveLength(v.length);
    for (let i = 0; i < v.length; i++) expect(back[i]).toBe(float16ToFloat32(float32ToFloat16(v[i])));
    expect(cache.stats).toMatchObject({ hits: 1, writes: 1, bytesWritten: 16 + 2 * v.length });
  });

  it('float32 entries come back exactly, also from a subarray', async () => {
    const cache = new DiskEmbeddingCache(await mkdtemp(join(tmpdir(), 'cache-f32-')), 'float32');
    const v = values(1001).subarray(3, 1000);
    await cache.set(key(2), v);
    expect(Array.from((await cache.get(key(2)))!)).toEqual(Array.from(v));
  });

  it('a truncated or foreign entry is a miss', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cache-bad-'));
    const cache = new DiskEmbeddingCache(dir);
    await cache.set(key(3), values(100));
    const [sub] = await readdir(dir);
    const [file] = await readdir(join(dir, sub));
    const path = join(dir, sub, file);
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 2));
    expect(await cache.get(key(3))).toBeUndefined();
    await writeFile(path, Buffer.from('not an entry, just text of some length'));
    expect(await cache.get(key(3))).toBeUndefined();
    expect(cache.stats.misses).toBe(2);
  });

  it('the key depends on every part', () => {
    const base = { sourceHash: 'a', view: 'v', backbone: 'b', inputSize: 224 };
    const keys = new Set(
      [
        base,
        { ...base, sourceHash: 'x' },
        { ...base, view: 'x' },
        { ...base, backbone: 'x' },
        { ...base, inputSize: 256 },
      ].map(embeddingKey),
    );
    expect(keys.size).toBe(5);
  });
});
