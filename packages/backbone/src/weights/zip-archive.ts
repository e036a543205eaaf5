/**
 * The zip container of `torch.save` (torch ≥ 1.6): the central directory (ZIP64 when an archive
 * passes 4 GiB), each entry's bytes checked against its CRC-32, stored entries returned as views of
 * the file. Every offset is bounds-checked, so a truncated or damaged archive is a `WeightFileError`.
 *
 * Memory: torch stores its entries uncompressed (method 0), which costs nothing beyond the file. A
 * deflated entry (an archive re-packed by another tool) is inflated to at most the size its header
 * declares, and all inflated entries of an archive together to at most `inflateLimit(file size)`, so
 * a zip bomb fails with a message instead of exhausting memory.
 *
 * @example
 * ```ts
 * const zip = readZipArchive(bytes, 'resnet18-f37072fd.pth');
 * zip.names();                       // ['resnet18/data.pkl', 'resnet18/data/0', …]
 * zip.read('resnet18/data.pkl');     // Uint8Array, CRC-checked
 * ```
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { ByteReader } from './byte-reader';
import { WeightFileError } from './errors';

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Inflated bytes an archive may produce in all: 32× its size, at least 64 MiB. */
export function inflateLimit(fileSize: number): number {
  return Math.max(64 * 2 ** 20, 32 * fileSize);
}

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

export interface ZipArchive {
  names(): string[];
  has(name: string): boolean;
  /** The entry's bytes (a view of the file when stored), checked against its CRC-32. */
  read(name: string): Uint8Array;
}

/** Whether the bytes start like a zip archive (a local file header). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

function findEndOfCentralDirectory(r: ByteReader): number {
  // the record is 22 bytes plus a comment of at most 65535
  for (let i = r.length - 22; i >= Math.max(0, r.length - 22 - 65535); i--) {
    if (r.data[i] === 0x50 && r.u32(i, 'end of central directory') === EOCD) return i;
  }
  throw new WeightFileError(
    r.file,
    'zip end-of-central-directory record not found: the file is truncated or not a zip',
  );
}

function centralDirectory(r: ByteReader): { count: number; offset: number } {
  const eocd = findEndOfCentralDirectory(r);
  let count = r.u16(eocd + 10, 'zip entry count');
  let offset = r.u32(eocd + 16, 'zip central directory offset');
  if (count === 0xffff || offset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || r.u32(locator, 'zip64 locator') !== ZIP64_LOCATOR)
      throw new WeightFileError(r.file, 'zip64 locator missing: damaged archive');
    const z64 = r.u64(locator + 8, 'zip64 record offset');
    if (r.u32(z64, 'zip64 end of central directory') !== ZIP64_EOCD)
      throw new WeightFileError(r.file, 'zip64 end-of-central-directory record missing: damaged archive');
    count = r.u64(z64 + 32, 'zip64 entry count');
    offset = r.u64(z64 + 48, 'zip64 central directory offset');
  }
  return { count, offset };
}

function readEntries(r: ByteReader): Map<string, ZipEntry> {
  const { count, offset } = centralDirectory(r);
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder();
  let p = offset;
  // each entry takes at least 46 bytes, so a claimed count beyond that is damage, found before looping
  if (count > (r.length - offset) / 46)
    throw new WeightFileError(r.file, `zip claims ${count} entries, more than its central directory can hold: damaged`);
  for (let i = 0; i < count; i++) {
    if (r.u32(p, 'zip central directory entry') !== CENTRAL)
      throw new WeightFileError(r.file, `zip central directory entry ${i} is damaged`);
    const flags = r.u16(p + 8, 'zip entry flags');
    const method = r.u16(p + 10, 'zip entry method');
    const crc = r.u32(p + 16, 'zip entry CRC');
    let compressedSize = r.u32(p + 20, 'zip entry size');
    let size = r.u32(p + 24, 'zip entry size');
    const nameLength = r.u16(p + 28, 'zip entry name length');
    const extraLength = r.u16(p + 30, 'zip entry extra length');
    const commentLength = r.u16(p + 32, 'zip entry comment length');
    let localOffset = r.u32(p + 42, 'zip entry offset');
    const name = decoder.decode(r.bytes(p + 46, nameLength, 'zip entry name'));
    // the ZIP64 extra field carries the 64-bit values whose 32-bit fields saturate, in this order
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    r.need(e, extraLength, `zip entry ${name} extra field`);
    while (e + 4 <= extraEnd) {
      const id = r.u16(e, 'zip extra id');
      const length = r.u16(e + 2, 'zip extra length');
      if (id === 0x0001) {
        let q = e + 4;
        const next = (what: string) => {
          if (q + 8 > e + 4 + length) throw new WeightFileError(r.file, `zip entry ${name}: zip64 ${what} missing`);
          const v = r.u64(q, `zip entry ${name} ${what}`);
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next('size');
        if (compressedSize === 0xffffffff) compressedSize = next('compressed size');
        if (localOffset === 0xffffffff) localOffset = next('offset');
      }
      e += 4 + length;
    }
    p = extraEnd + commentLength;
    entries.set(name, { name, method, flags, crc, compressedSize, size, localOffset });
  }
  return entries;
}

export function readZipArchive(bytes: Uint8Array, file: string): ZipArchive {
  const r = new ByteReader(bytes, file);
  const entries = readEntries(r);
  let inflated = 0;
  const limit = inflateLimit(bytes.length);
  const read = (name: string): Uint8Array => {
    const entry = entries.get(name);
    if (!entry) throw new WeightFileError(file, `zip has no entry ${name}`);
    if (entry.flags & 1) throw new WeightFileError(file, `zip entry ${name} is encrypted`);
    const at = entry.localOffset;
    if (r.u32(at, `zip entry ${name} header`) !== LOCAL)
      throw new WeightFileError(file, `zip entry ${name}: local header missing, damaged archive`);
    const start = at + 30 + r.u16(at + 26, `zip entry ${name} header`) + r.u16(at + 28, `zip entry ${name} header`);
    const raw = r.bytes(start, entry.compressedSize, `zip entry ${name}`);
    let data: Uint8Array;
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size)
        throw new WeightFileError(
          file,
          `zip entry ${name}: stored sizes differ (${entry.compressedSize} vs ${entry.size})`,
        );
      data = raw;
    } else if (entry.method === 8) {
      if (inflated + entry.size > limit)
        throw new WeightFileError(
          file,
          `zip entry ${name} would inflate to ${entry.size} bytes, past the ${limit} bytes allowed for a ${bytes.length}-byte archive (a zip bomb?)`,
        );
      try {
        data = entry.size === 0 ? new Uint8Array(0) : inflateRawSync(raw, { maxOutputLength: entry.size });
      } catch (error) {
        throw new WeightFileError(file, `zip entry ${name} does not inflate (${(error as Error).message})`);
      }
      if (data.length !== entry.size)
        throw new WeightFileError(
          file,
          `zip entry ${name} inflates to ${data.length} bytes, its header says ${entry.size}: damaged`,
        );
      inflated += data.length;
    } else {
      throw new WeightFileError(file, `zip entry ${name} uses compression method ${entry.method}; supported: 0, 8`);
    }
    if (crc32(data) !== entry.crc)
      throw new WeightFileError(file, `zip entry ${name} fails its CRC-32 check: the file is damaged`);
    return data;
  };
  return { names: () => [...entries.keys()], has: (name) => entries.has(name), read };
}
