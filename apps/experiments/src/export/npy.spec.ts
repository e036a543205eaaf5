import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from './npy';

describe('.npy', () => {
  it('writes numpy’s version 1.0 header (64-byte aligned) and float32 data that decodeNpy reads back exactly', () => {
    const data = Float32Array.from([0, -1.5, 3.25, 1e-8, 65504, Math.PI]);
    const bytes = encodeNpy(data, [2, 3]);
    const headerLength = bytes.readUInt16LE(8);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]));
    expect((10 + headerLength) % 64).toBe(0);
    expect(bytes.toString('latin1', 10, 10 + headerLength)).toMatch(
      /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} +\n$/,
    );
    expect(bytes.length).toBe(10 + headerLength + 24);
    const back = decodeNpy(bytes);
    expect(back.shape).toEqual([2, 3]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    expect(decodeNpy(encodeNpy(new Float32Array([7]), [1])).shape).toEqual([1]);
  });

  it('refuses a shape that does not fit the data, and a file that is not .npy', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/shape \[2,3\] needs 6 values, got 5/);
    expect(() => decodeNpy(Buffer.from('PK\x03\x04 not npy'), 'x.npy')).toThrow(/x\.npy: not a version 1 \.npy file/);
  });
});
