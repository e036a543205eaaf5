/**
 * Property-based tests of feature-cache entries (run by embedding-cache.fuzz.spec.ts in a worker
 * under a watchdog): random bytes, truncations and mutations of valid entries, read both by
 * `decodeEntry` and through `DiskEmbeddingCache.get` from a damaged file.
 *
 * The property: a damaged entry is a miss (undefined) or — when the damage missed every checked
 * byte — exactly the values stored; never an exception, never other numbers, and never more than
 * twice the entry's bytes decoded.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { checkProperties, type NoteInput, type PropertyOutcome } from '@cfa/io/testing';
import { decodeEntry, DiskEmbeddingCache, embeddingKey } from './embedding-cache';

const mutations = (length: number) =>
  fc.array(fc.tuple(fc.nat({ max: length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 });

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

export async function cacheEntryProperties(note: NoteInput): Promise<PropertyOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'cache-fuzz-'));
  const key = embeddingKey({
    sourceHash: 'fuzz',
    view: 'center-crop:256:224',
    backbone: 'random:resnet18:0',
    inputSize: 224,
  });
  const entries: Record<string, { bytes: Uint8Array; values: Float32Array }> = {};
  for (const dtype of ['float16', 'float32'] as const) {
    const cache = new DiskEmbeddingCache(join(dir, dtype), dtype);
    const values = await cache.set(
      key,
      Float32Array.from({ length: 37 }, (_, i) => Math.sin(i) * 10),
    );
    const sub = join(dir, dtype, key.slice(0, 2));
    entries[dtype] = { bytes: new Uint8Array(readFileSync(join(sub, readdirSync(sub)[0]))), values };
  }
  const decoded = (bytes: Uint8Array) => {
    note(Buffer.from(bytes.subarray(0, 120)).toString('hex'));
    const out = decodeEntry(bytes);
    if (out && out.byteLength > 2 * bytes.length)
      throw new Error(`decoded ${out.byteLength} bytes from ${bytes.length}`);
    return out;
  };
  const dtype = fc.constantFrom<'float16' | 'float32'>('float16', 'float32');
  return checkProperties(
    fc,
    [
      {
        name: 'random bytes: a miss, or as many values as the header says',
        property: fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
          const out = decoded(bytes);
          return !out || out.length === new DataView(bytes.buffer).getUint32(8, true);
        }),
      },
      {
        name: 'truncations are misses',
        property: fc.property(dtype, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (d, f) => {
          const { bytes } = entries[d];
          return decoded(bytes.subarray(0, Math.floor(f * bytes.length))) === undefined;
        }),
      },
      {
        name: 'mutations: a miss, or exactly the stored values',
        property: fc.property(
          dtype.chain((d) => fc.tuple(fc.constant(d), mutations(entries[d].bytes.length))),
          ([d, edits]) => {
            const bytes = Uint8Array.from(entries[d].bytes);
            for (const [at, v] of edits) bytes[at] = v;
            const out = decoded(bytes);
            return !out || same(out, entries[d].values);
          },
        ),
      },
      {
        name: 'a damaged file on disk is a cache miss, never an exception',
        property: fc.asyncProperty(
          dtype.chain((d) =>
            fc.tuple(
              fc.constant(d),
              fc.oneof(
                fc.uint8Array({ maxLength: 64 }),
                fc.nat({ max: entries[d].bytes.length - 1 }).map((n) => entries[d].bytes.subarray(0, n)),
              ),
            ),
          ),
          async ([d, bytes]) => {
            const cache = new DiskEmbeddingCache(join(dir, d), d);
            const sub = join(dir, d, key.slice(0, 2));
            writeFileSync(
              join(
                sub,
                readdirSync(sub).find((f) => f.startsWith(key))!,
              ),
              bytes,
            );
            note(`disk ${d}: ${Buffer.from(bytes.subarray(0, 120)).toString('hex')}`);
            const out = await cache.get(key);
            return out === undefined || same(out, entries[d].values);
          },
        ),
      },
    ],
    { runs: 1000 },
  );
}
