/**
 * A PNG assembled chunk by chunk, so that a test can claim any size in its header whatever pixel
 * data follows (decompression bombs, truncated or short IDAT data) — what no encoder will write.
 * PNG spec: signature, IHDR (width, height, bit depth 8, colour type 2 = RGB), IDAT, IEND, each
 * chunk as length, type, data, CRC-32 of type and data.
 */
import { crc32 } from 'node:zlib';

const SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** An 8-bit RGB PNG whose header says `width` × `height` and whose IDAT holds `idat` (zlib data) as given. */
export function rgbPng(width: number, height: number, idat: Uint8Array): Buffer {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}
