/**
 * Patch embeddings are a pure function of (image bytes, view, backbone weights, input size), so
 * they are computed once and reused by every epoch and every sweep cell. Two stores behind one
 * interface: in memory (default for one run) and on disk (shared by runs and workers).
 *
 * The disk store is content-addressed (file name = the key's hash) and writes through a temp file,
 * an fsync and an atomic rename, so two processes writing the same entry never corrupt each other:
 * the second rename replaces identical bytes. Entries are float16 by default (half the disk).
 *
 * An entry is a 16-byte header — magic "CFAE", bits per value (16 or 32), value count, CRC-32 of
 * the values — then the values, little-endian. Anything else (shorter than the header, another
 * magic, a length that disagrees, a checksum that does not match: a file cut by a power loss, a
 * flipped bit, an entry of an older layout) is a miss, and the next `set` rewrites it: a damaged
 * entry never stops a run and never gives wrong numbers.
 *
 * @example
 * ```ts
 * const cache = new DiskEmbeddingCache('.cache/embeddings');
 * const key = embeddingKey({ sourceHash, view: 'center-crop:256:224', backbone: 'random:resnet18:0', inputSize: 224 });
 * await cache.set(key, embedding);
 * await cache.get(key); // Float32Array (float16 round-trip)
 * ```
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { float16ToFloat32, float32ToFloat16 } from '@cfa/backbone';
import { writeFileAtomic } from '@cfa/io';

export interface EmbeddingCache {
  get(key: string): Promise<Float32Array | undefined>;
  /**
   * Stores `value`; returns it as `get` will give it back (float16-rounded in a float16 disk
   * cache), so that a caller holding the value computes exactly what a later cache hit would.
   */
  set(key: string, value: Float32Array): Promise<Float32Array>;
  readonly description: string;
  /** Entries written / read so far. */
  readonly stats: { hits: number; misses: number; writes: number; bytesWritten: number };
}

export interface EmbeddingKeyParts {
  /** sha256 of the image file bytes. */
  sourceHash: string;
  /** Canonical view string; random views include the per-sample parameters. */
  view: string;
  /** Backbone weights identity (`random:resnet18:0` or `file:<sha256>`). */
  backbone: string;
  inputSize: number;
  /**
   * What the method's extractor makes of the backbone maps (`FeatureExtractor.kind`); '' (CFA's
   * pooled pyramid) keeps the keys entries had before methods named theirs.
   */
  extractor?: string;
}

/**
 * The cache key: a sha256 over everything the embedding depends on, and the entry layout's
 * version (2: the embedding pyramid; 1 held the upsampled embedding, so its entries are misses).
 */
export function embeddingKey(parts: EmbeddingKeyParts): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        2,
        parts.sourceHash,
        parts.view,
        parts.backbone,
        parts.inputSize,
        ...(parts.extractor ? [parts.extractor] : []),
      ]),
    )
    .digest('hex');
}

/** float16 bits → float32 for all 65536 patterns: decoding an entry is one lookup per value. */
let halfTable: Float32Array | undefined;
function float16Table(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = float16ToFloat32(h);
  }
  return halfTable;
}

export class MemoryEmbeddingCache implements EmbeddingCache {
  private readonly entries = new Map<string, Float32Array>();
  readonly stats = { hits: 0, misses: 0, writes: 0, bytesWritten: 0 };
  readonly description = 'memory';

  async get(key: string): Promise<Float32Array | undefined> {
    const v = this.entries.get(key);
    if (v) this.stats.hits++;
    else this.stats.misses++;
    return v;
  }

  async set(key: string, value: Float32Array): Promise<Float32Array> {
    this.entries.set(key, value);
    this.stats.writes++;
    this.stats.bytesWritten += value.byteLength;
    return value;
  }
}

const MAGIC = 0x43464145; // "CFAE"
const HEADER = 16;

/** An entry's values, or undefined when the bytes are not a whole, intact entry. */
export function decodeEntry(bytes: Uint8Array): Float32Array | undefined {
  if (bytes.length < HEADER) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bits = view.getUint32(4, true);
  const length = view.getUint32(8, true);
  if (view.getUint32(0, true) !== MAGIC || (bits !== 16 && bits !== 32)) return undefined;
  if (bytes.length !== HEADER + length * (bits / 8)) return undefined;
  if (crc32(bytes.subarray(HEADER)) !== view.getUint32(12, true)) return undefined;
  const half = bits === 16;
  const out = new Float32Array(length);
  // entries are little-endian like every platform Node runs on; copy to an aligned buffer first
  const body = new Uint8Array(length * (half ? 2 : 4));
  body.set(bytes.subarray(HEADER));
  if (half) {
    const table = float16Table(),
      values = new Uint16Array(body.buffer);
    for (let i = 0; i < length; i++) out[i] = table[values[i]];
  } else {
    out.set(new Float32Array(body.buffer));
  }
  return out;
}

export class DiskEmbeddingCache implements EmbeddingCache {
  readonly stats = { hits: 0, misses: 0, writes: 0, bytesWritten: 0 };

  constructor(
    readonly dir: string,
    readonly dtype: 'float16' | 'float32' = 'float16',
  ) {}

  get description(): string {
    return `disk ${this.dir} (${this.dtype})`;
  }

  private path(key: string): string {
    if (!/^[0-9a-f]{16,}$/.test(key)) throw new Error(`DiskEmbeddingCache: key must be a hex digest, got '${key}'`);
    return join(this.dir, key.slice(0, 2), `${key}.emb`);
  }

  async get(key: string): Promise<Float32Array | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path(key));
    } catch {
      this.stats.misses++;
      return undefined;
    }
    const out = decodeEntry(bytes);
    // a foreign or damaged entry is a miss; it is rewritten by the next set()
    if (out) this.stats.hits++;
    else this.stats.misses++;
    return out;
  }

  async set(key: string, value: Float32Array): Promise<Float32Array> {
    const path = this.path(key);
    const half = this.dtype === 'float16';
    const bytes = Buffer.alloc(HEADER + value.length * (half ? 2 : 4));
    bytes.writeUInt32LE(MAGIC, 0);
    bytes.writeUInt32LE(half ? 16 : 32, 4);
    bytes.writeUInt32LE(value.length, 8);
    let stored = value;
    if (half) {
      const bits = new Uint16Array(value.length);
      for (let i = 0; i < value.length; i++) bits[i] = float32ToFloat16(value[i]);
      bytes.set(new Uint8Array(bits.buffer), HEADER);
      const table = float16Table();
      stored = Float32Array.from(bits, (b) => table[b]);
    } else {
      bytes.set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength), HEADER);
    }
    bytes.writeUInt32LE(crc32(bytes.subarray(HEADER)), 12);
    await writeFileAtomic(path, bytes, { durable: true });
    this.stats.writes++;
    this.stats.bytesWritten += bytes.length;
    return stored;
  }

  async has(key: string): Promise<boolean> {
    return stat(this.path(key)).then(
      () => true,
      () => false,
    );
  }
}
