import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  float16ToFloat32,
  float32ToFloat16,
  readSafetensors,
  writeSafetensors,
} from './safetensors';
import type { StateDict } from './state-dict';

const sample = (): StateDict =>
  new Map([
    ['b.weight', { shape: [2, 3], data: new Float32Array([1, -2, 0.5, 3.25, -0.125, 65504]) }],
    ['a.bias', { shape: [2], data: new Float32Array([0.1, -7]) }],
  ]);

describe('safetensors', () => {
  it('round-trips float32 exactly, with an 8-byte aligned header and sorted names', () => {
    const bytes = encodeSafetensors(sample(), { metadata: { format: 'pt' } });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const { tensors, metadata } = decodeSafetensors(bytes, 'x.safetensors');
    expect([...tensors.keys()]).toEqual(['a.bias', 'b.weight']);
    expect(Array.from(tensors.get('b.weight')!.data)).toEqual(Array.from(sample().get('b.weight')!.data));
    expect(tensors.get('b.weight')!.shape).toEqual([2, 3]);
    expect(metadata).toEqual({ format: 'pt' });
  });

  it('reads float16 and bfloat16 to float32 within their precision', () => {
    for (const dtype of ['F16', 'BF16'] as const) {
      const { tensors } = decodeSafetensors(encodeSafetensors(sample(), { dtype }), 'x');
      const got = tensors.get('a.bias')!.data;
      expect(got[1]).toBe(-7);
      expect(got[0]).toBeCloseTo(0.1, dtype === 'F16' ? 3 : 2);
    }
  });

  it('float16 conversion handles the special values', () => {
    expect(float16ToFloat32(0x3c00)).toBe(1);
    expect(float16ToFloat32(0xc000)).toBe(-2);
    expect(float16ToFloat32(0x7c00)).toBe(Infinity);
    expect(float16ToFloat32(0x0001)).toBeCloseTo(5.96e-8, 9);
    expect(Number.isNaN(float16ToFloat32(0x7e00))).toBe(true);
    expect(float32ToFloat16(65504)).toBe(0x7bff);
    expect(float32ToFloat16(1e6)).toBe(0x7c00);
    // round-to-nearest: relative error at most half a unit in the last place (2^-11)
    for (const v of [0.1, -3.5, 1e-3, 1234.5])
      expect(Math.abs(float16ToFloat32(float32ToFloat16(v)) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11);
    expect(float16ToFloat32(float32ToFloat16(1234.5))).toBe(1234); // a tie goes to the even neighbour
  });

  it('writes atomically and reads back from disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'st-'));
    await writeSafetensors(join(dir, 'w.safetensors'), sample());
    const { tensors } = await readSafetensors(join(dir, 'w.safetensors'));
    expect(tensors.size).toBe(2);
  });

  it('names the file and the problem for truncated, garbage and missing files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'st-'));
    const bytes = encodeSafetensors(sample());
    await writeFile(join(dir, 'cut.safetensors'), bytes.subarray(0, bytes.length - 5));
    await expect(readSafetensors(join(dir, 'cut.safetensors'))).rejects.toThrow(
      /cut\.safetensors: tensor 'b\.weight' data .* lies outside the file: truncated/,
    );
    await writeFile(join(dir, 'junk.safetensors'), Buffer.from('not a weights file at all'));
    await expect(readSafetensors(join(dir, 'junk.safetensors'))).rejects.toThrow(
      /junk\.safetensors: header length \d+ exceeds the file/,
    );
    await expect(readSafetensors(join(dir, 'nope.safetensors'))).rejects.toThrow(
      /nope\.safetensors: cannot read \(ENOENT\)/,
    );
    expect((await readFile(join(dir, 'cut.safetensors'))).length).toBe(bytes.length - 5);
  });

  it('refuses an unsupported dtype by name', () => {
    const header = JSON.stringify({ x: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } });
    const bytes = new Uint8Array(8 + header.length + 8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    expect(() => decodeSafetensors(bytes, 'c.safetensors')).toThrow(/tensor 'x' has dtype C64/);
  });
});
