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

  it('a damaged entry is a miss, never a crash or wrong numbers: cut inside its header, cut, bit-flipped, foreign', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cache-bad-'));
    const cache = new DiskEmbeddingCache(dir);
    const v = values(100);
    await cache.set(key(3), v);
    const [sub] = await readdir(dir);
    const [file] = await readdir(join(dir, sub));
    const path = join(dir, sub, file);
    const bytes = await readFile(path);
    const damaged: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['shorter than its header', bytes.subarray(0, 5)],
      ['header only', bytes.subarray(0, 16)],
      ['cut', bytes.subarray(0, bytes.length - 2)],
      ['a flipped bit in a value', Uint8Array.from(bytes, (b, i) => (i === 40 ? b ^ 4 : b))],
      ['foreign text', Buffer.from('not an entry, just text of some length')],
    ];
    for (const [what, content] of damaged) {
      await writeFile(path, content);
      expect(await cache.get(key(3)), what).toBeUndefined();
    }
    expect(cache.stats.misses).toBe(damaged.length);
    // the next set() rewrites it
    await cache.set(key(3), v);
    expect((await cache.get(key(3)))!.length).toBe(100);
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
