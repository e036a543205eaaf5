/**
 * NumPy's `.npy` format (version 1.0, numpy/lib/format.py): the magic `\x93NUMPY`, the version,
 * a little-endian uint16 header length, an ASCII dict header padded with spaces to a multiple of
 * 64 bytes and ending in a newline, then the raw data in C order. Raw anomaly maps are written as
 * float32 `.npy` so that `np.load('maps/x.npy')` gives the map exactly.
 *
 * @example
 * ```ts
 * await writeFile('map.npy', encodeNpy(map, [224, 224]));
 * decodeNpy(await readFile('map.npy')); // { data: Float32Array, shape: [224, 224] }
 * ```
 */

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** float32 little-endian ('<f4'), C order. */
export function encodeNpy(data: Float32Array, shape: number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`encodeNpy: shape [${shape}] needs ${count} values, got ${data.length}`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = Buffer.alloc(MAGIC.length + 4 + header.length + data.length * 4);
  MAGIC.copy(out, 0);
  out[6] = 1; // major version
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  const body = 10 + header.length;
  for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i], body + i * 4);
  return out;
}

/** Reads what `encodeNpy` writes (version 1.0, '<f4', C order). */
export function decodeNpy(bytes: Uint8Array, file = 'npy'): { data: Float32Array; shape: number[] } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC) || buf[6] !== 1)
    throw new Error(`${file}: not a version 1 .npy file`);
  const headerLength = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + headerLength);
  if (!header.includes("'descr': '<f4'") || header.includes("'fortran_order': True"))
    throw new Error(`${file}: expected little-endian float32 in C order, header ${header.trim()}`);
  const shape = (/'shape': \(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = 10 + headerLength;
  if (buf.length !== start + count * 4)
    throw new Error(`${file}: ${buf.length - start} data bytes, shape [${shape}] needs ${count * 4}`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = buf.readFloatLE(start + i * 4);
  return { data, shape };
}
