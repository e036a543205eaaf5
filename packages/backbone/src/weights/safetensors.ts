/**
 * The `.safetensors` format (huggingface/safetensors): an 8-byte little-endian header length, a
 * JSON header `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {...} }`, then
 * the raw little-endian tensor bytes. Reading it executes nothing, which is why we prefer it.
 *
 * Supported dtypes: F32, F16, BF16, F64 (converted to float32); I64/I32 tensors (BatchNorm's
 * `num_batches_tracked`) are read as float32 too since nothing uses them as integers.
 *
 * @example
 * ```ts
 * const bytes = encodeSafetensors(new Map([['w', { shape: [2], data: new Float32Array([1, 2]) }]]));
 * const { tensors } = decodeSafetensors(bytes, 'w.safetensors');
 * tensors.get('w')?.data; // Float32Array [1, 2]
 * ```
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { WeightFileError } from './errors';
import type { StateDict, WeightTensor } from './state-dict';

const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4 };

export interface SafetensorsContents {
  tensors: StateDict;
  metadata: Record<string, string>;
}

function halfBitsToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

let halfTable: Float32Array | undefined;

/** Half-precision bits → float (IEEE 754 binary16), through a 64K-entry table built once. */
export function float16ToFloat32(bits: number): number {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = halfBitsToFloat(i);
  }
  return halfTable[bits & 0xffff];
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Float → half-precision bits, round to nearest even. */
export function float32ToFloat16(value: number): number {
  scratchF32[0] = value;
  const u32 = scratchU32[0];
  const sign = (u32 >>> 16) & 0x8000;
  const exp = (u32 >>> 23) & 0xff;
  let mant = u32 & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

function decodeTensor(file: string, name: string, dtype: string, shape: number[], bytes: Uint8Array): WeightTensor {
  const count = shape.reduce((a, b) => a * b, 1);
  const size = Object.hasOwn(DTYPE_BYTES, dtype) ? DTYPE_BYTES[dtype] : 0;
  if (!size)
    throw new WeightFileError(
      file,
      `tensor '${name}' has dtype ${dtype}; supported: ${Object.keys(DTYPE_BYTES).join(', ')}`,
    );
  if (bytes.length !== count * size) {
    throw new WeightFileError(
      file,
      `tensor '${name}' of shape [${shape}] and dtype ${dtype} needs ${count * size} bytes, its offsets span ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = float16ToFloat32(view.getUint16(i * 2, true));
      break;
    case 'BF16': {
      const tmp = new Uint32Array(1);
      const asFloat = new Float32Array(tmp.buffer);
      for (let i = 0; i < count; i++) {
        tmp[0] = view.getUint16(i * 2, true) << 16;
        out[i] = asFloat[0];
      }
      break;
    }
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      break;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      break;
  }
  return { shape, data: out };
}

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** One tensor's header entry (the format's own names). */
const HeaderEntrySchema = z.strictObject({
  dtype: z.string(),
  shape: z.array(count),
  data_offsets: z.tuple([count, count]),
});
const MetadataSchema = z.record(z.string(), z.string());

/**
 * Parses safetensors bytes; `file` only names the source in errors. Every header entry is checked
 * (dtype, shape, offsets inside the file, byte length = shape × dtype) and the tensors' byte ranges
 * may not overlap, as the format requires — so the decoded floats are at most twice the file.
 */
export function decodeSafetensors(bytes: Uint8Array, file: string): SafetensorsContents {
  if (bytes.length < 8) throw new WeightFileError(file, `too short for a safetensors file (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8 || headerLength > 100_000_000) {
    throw new WeightFileError(
      file,
      `header length ${headerLength} exceeds the file (${bytes.length} bytes): not a safetensors file or truncated`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    throw new WeightFileError(file, `header is not valid JSON (${(error as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header))
    throw new WeightFileError(file, 'header is not a JSON object of tensors');
  const dataStart = 8 + headerLength;
  let metadata: Record<string, string> = {};
  const entries: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      const parsed = MetadataSchema.safeParse(raw);
      if (!parsed.success) throw new WeightFileError(file, '__metadata__ must map strings to strings');
      metadata = parsed.data;
      continue;
    }
    const parsed = HeaderEntrySchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new WeightFileError(
        file,
        `header entry '${name}' is malformed (${issue.path.join('.') || 'entry'}: ${issue.message}); expected { dtype, shape, data_offsets }`,
      );
    }
    const { dtype, shape, data_offsets: offsets } = parsed.data;
    const [begin, end] = offsets;
    if (end < begin || dataStart + end > bytes.length) {
      throw new WeightFileError(file, `tensor '${name}' data [${begin}, ${end}) lies outside the file: truncated?`);
    }
    entries.push({ name, dtype, shape, begin, end });
  }
  // checked before anything is decoded: overlapping ranges could decode the same bytes many times
  const ranges = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i].begin < ranges[i - 1].end)
      throw new WeightFileError(
        file,
        `tensors '${ranges[i - 1].name}' and '${ranges[i].name}' overlap in the file: damaged`,
      );
  }
  const tensors: StateDict = new Map();
  for (const { name, dtype, shape, begin, end } of entries)
    tensors.set(name, decodeTensor(file, name, dtype, shape, bytes.subarray(dataStart + begin, dataStart + end)));
  return { tensors, metadata };
}

export async function readSafetensors(path: string): Promise<SafetensorsContents> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new WeightFileError(
      path,
      `cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  return decodeSafetensors(bytes, path);
}

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

/** Encodes a state dict (tensors sorted by name, 8-byte aligned header, as the reference writer does). */
export function encodeSafetensors(
  tensors: StateDict,
  options: { dtype?: SafetensorsDtype; metadata?: Record<string, string> } = {},
): Uint8Array {
  const dtype = options.dtype ?? 'F32';
  const size = DTYPE_BYTES[dtype];
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (options.metadata) header.__metadata__ = options.metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length * size] };
    offset += t.data.length * size;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.length;
  for (const name of names) {
    const data = tensors.get(name)!.data;
    for (let i = 0; i < data.length; i++, p += size) {
      if (dtype === 'F32') view.setFloat32(p, data[i], true);
      else if (dtype === 'F16') view.setUint16(p, float32ToFloat16(data[i]), true);
      else view.setUint16(p, bf16Bits(data[i]), true);
    }
  }
  return out;
}

function bf16Bits(value: number): number {
  const u = new Uint32Array(new Float32Array([value]).buffer)[0];
  // round to nearest even on the dropped 16 bits
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Writes atomically (temp file + rename) so an interrupted write never leaves a half file. */
export async function writeSafetensors(
  path: string,
  tensors: StateDict,
  options: Parameters<typeof encodeSafetensors>[1] = {},
): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, encodeSafetensors(tensors, options));
  await rename(tmp, path);
}
