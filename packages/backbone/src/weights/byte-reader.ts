/**
 * Bounds-checked little-endian reads for the weight-file decoders: a read past the end, or a
 * 64-bit count no array could hold, is a `WeightFileError` naming the file and the field, never a
 * `RangeError` from a `DataView` or a silently wrong `Number`.
 *
 * @example
 * ```ts
 * const r = new ByteReader(bytes, 'wide_resnet50_2-95faca4d.pth');
 * const count = r.u64(offset, 'storage element count');   // a safe integer, or a WeightFileError
 * const raw = r.bytes(offset + 8, count * 4, 'storage 0'); // a view, no copy
 * ```
 */
import { WeightFileError } from './errors';

export class ByteReader {
  private readonly view: DataView;

  constructor(
    readonly data: Uint8Array,
    readonly file: string,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  get length(): number {
    return this.data.length;
  }

  /** Throws unless `[at, at + size)` lies inside the data. */
  need(at: number, size: number, what: string): void {
    if (!(Number.isSafeInteger(at) && Number.isSafeInteger(size) && at >= 0 && size >= 0 && at + size <= this.length))
      throw new WeightFileError(
        this.file,
        `${what} lies outside the file (bytes ${at}…${at + size} of ${this.length}): truncated or damaged`,
      );
  }

  u8(at: number, what: string): number {
    this.need(at, 1, what);
    return this.data[at];
  }

  u16(at: number, what: string): number {
    this.need(at, 2, what);
    return this.view.getUint16(at, true);
  }

  u32(at: number, what: string): number {
    this.need(at, 4, what);
    return this.view.getUint32(at, true);
  }

  i32(at: number, what: string): number {
    this.need(at, 4, what);
    return this.view.getInt32(at, true);
  }

  /** An unsigned 64-bit count or offset; more than 2^53 − 1 cannot describe real data. */
  u64(at: number, what: string): number {
    this.need(at, 8, what);
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER))
      throw new WeightFileError(this.file, `${what} is ${v}, more than any file holds: damaged`);
    return Number(v);
  }

  /** Big-endian float64 (pickle's BINFLOAT). */
  f64be(at: number, what: string): number {
    this.need(at, 8, what);
    return this.view.getFloat64(at, false);
  }

  /** A view of `[at, at + size)`, no copy. */
  bytes(at: number, size: number, what: string): Uint8Array {
    this.need(at, size, what);
    return this.data.subarray(at, at + size);
  }
}
