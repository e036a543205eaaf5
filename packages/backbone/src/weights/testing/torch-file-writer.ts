/**
 * Writes torch checkpoints byte by byte, for tests that need files torch itself would never write:
 * hostile sizes, strides and element counts, foreign globals, deflated (or bomb) zip entries. The
 * pickles use the opcodes torch's protocol-2 pickler emits for a state dict, so a file written here
 * with honest values is one `torch.load` reads (the fixtures written by PyTorch are the check).
 *
 * @example
 * ```ts
 * const bytes = legacyCheckpoint([{ name: 'w', key: '0', size: [2], stride: [1], offset: 0 }], [{ key: '0', dtype: 'F32', data: f32([1, 2]) }]);
 * ```
 */
import { crc32, deflateRawSync } from 'node:zlib';

export type TestDtype = 'F32' | 'F16' | 'I64' | 'U8';

const STORAGE_TYPE: Record<TestDtype, string> = {
  F32: 'FloatStorage',
  F16: 'HalfStorage',
  I64: 'LongStorage',
  U8: 'ByteStorage',
};

export interface TensorSpec {
  name: string;
  /** Storage key (and, in the zip format, entry name under data/). */
  key: string;
  dtype?: TestDtype;
  /** The storage's element count as the persistent id claims it. */
  numel?: number;
  size: number[];
  stride: number[];
  offset: number;
}

export interface StorageSpec {
  key: string;
  dtype: TestDtype;
  data: Uint8Array;
  /** Legacy format: the element count written before the bytes (default: the honest one). */
  claimedCount?: number | bigint;
}

export const ELEMENT_BYTES: Record<TestDtype, number> = { F32: 4, F16: 2, I64: 8, U8: 1 };

export function f32(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

class Pickler {
  private readonly parts: number[] = [];
  op(...bytes: number[]): this {
    this.parts.push(...bytes);
    return this;
  }
  u32(v: number): this {
    return this.op(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.op(0x58).u32(b.length);
    return this.op(...b);
  }
  int(v: number | bigint): this {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 256) return this.op(0x4b, v);
    if (typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31)
      return this.op(0x4a).u32(v >>> 0);
    // LONG1, little-endian two's complement, 9 bytes: room for any 64-bit value
    let x = BigInt(v);
    const out: number[] = [];
    for (let i = 0; i < 9; i++) {
      out.push(Number(x & 0xffn));
      x >>= 8n;
    }
    return this.op(0x8a, 9, ...out);
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
  }
  tuple(items: (() => void)[]): this {
    this.op(0x28);
    items.forEach((f) => f());
    return this.op(0x74);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/**
 * A protocol-2 pickle of `OrderedDict(name → _rebuild_tensor_v2(storage, offset, size, stride, False,
 * OrderedDict()))` with persistent ids ('storage', <type>, key, 'cpu', numel[, None]).
 */
export function stateDictPickle(
  tensors: TensorSpec[],
  options: { legacyPid?: boolean; rebuildWith?: [string, string] } = {},
): Uint8Array {
  const p = new Pickler().op(0x80, 2).global('collections', 'OrderedDict').op(0x29, 0x52);
  const [module, fn] = options.rebuildWith ?? ['torch._utils', '_rebuild_tensor_v2'];
  for (const t of tensors) {
    const dtype = t.dtype ?? 'F32';
    p.str(t.name).global(module, fn);
    p.tuple([
      () =>
        p
          .tuple([
            () => p.str('storage'),
            () => p.global('torch', STORAGE_TYPE[dtype]),
            () => p.str(t.key),
            () => p.str('cpu'),
            () => p.int(t.numel ?? 0),
            () => (options.legacyPid ? p.op(0x4e) : undefined),
          ])
          .op(0x51),
      () => p.int(t.offset),
      () => p.tuple(t.size.map((d) => () => p.int(d))),
      () => p.tuple(t.stride.map((d) => () => p.int(d))),
      () => p.op(0x89),
      () => p.global('collections', 'OrderedDict').op(0x29, 0x52),
    ]);
    p.op(0x52, 0x73);
  }
  return p.op(0x2e).bytes();
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function u64(v: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(v), true);
  return out;
}

/** The legacy layout: magic, protocol, sys info, the state dict, the key list, then each storage. */
export function legacyCheckpoint(tensors: TensorSpec[], storages: StorageSpec[], body?: Uint8Array): Uint8Array {
  const magic = new Pickler().op(0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e);
  const protocol = new Pickler().op(0x80, 2).int(1001).op(0x2e);
  const sysInfo = new Pickler()
    .op(0x80, 2, 0x7d, 0x28)
    .str('protocol_version')
    .int(1001)
    .str('little_endian')
    .op(0x88)
    .op(0x75, 0x2e);
  const keys = new Pickler().op(0x80, 2, 0x5d, 0x28);
  storages.forEach((s) => keys.str(s.key));
  keys.op(0x65, 0x2e);
  const withNumel = tensors.map((t) => {
    const s = storages.find((x) => x.key === t.key);
    return { ...t, numel: t.numel ?? (s ? s.data.length / ELEMENT_BYTES[s.dtype] : 0) };
  });
  return concat([
    magic.bytes(),
    protocol.bytes(),
    sysInfo.bytes(),
    body ?? stateDictPickle(withNumel, { legacyPid: true }),
    keys.bytes(),
    ...storages.flatMap((s) => [u64(s.claimedCount ?? s.data.length / ELEMENT_BYTES[s.dtype]), s.data]),
  ]);
}

export interface ZipEntrySpec {
  name: string;
  data: Uint8Array;
  /** 0 stored (what torch writes), 8 deflated. */
  method?: 0 | 8;
  /** Overrides the uncompressed size in the headers (a lie, for zip-bomb tests). */
  declaredSize?: number;
}

/** A zip archive (no ZIP64), entries with CRC-32 as torch's writer produces them. */
export function zipArchive(entries: ZipEntrySpec[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = new TextEncoder().encode(e.name);
    const method = e.method ?? 0;
    const body = method === 8 ? deflateRawSync(e.data) : e.data;
    const size = e.declaredSize ?? e.data.length;
    const crc = crc32(e.data);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const cd = new Uint8Array(46 + name.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    cd.set(name, 46);
    locals.push(local, body);
    central.push(cd);
    offset += local.length + body.length;
  }
  const cdBytes = concat(central);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdBytes.length, true);
  ev.setUint32(16, offset, true);
  return concat([...locals, cdBytes, end]);
}

/** The zip layout torch writes: archive/data.pkl plus archive/data/<key> per storage. */
export function zipCheckpoint(
  tensors: TensorSpec[],
  storages: StorageSpec[],
  options: { method?: 0 | 8; declaredSize?: number } = {},
): Uint8Array {
  const withNumel = tensors.map((t) => {
    const s = storages.find((x) => x.key === t.key);
    return { ...t, numel: t.numel ?? (s ? s.data.length / ELEMENT_BYTES[s.dtype] : 0) };
  });
  return zipArchive([
    { name: 'archive/data.pkl', data: stateDictPickle(withNumel) },
    ...storages.map((s) => ({
      name: `archive/data/${s.key}`,
      data: s.data,
      method: options.method,
      declaredSize: options.declaredSize,
    })),
  ]);
}
