/**
 * Reads the float32 tensors of a `.safetensors` file (8-byte header length, JSON header, raw
 * little-endian data) for the metrics specs, whose fixtures the CFA reference code computed;
 * metrics imports no other package, so it carries this small reader of its own.
 */
export interface TestTensor {
  shape: number[];
  data: Float32Array;
}

export function decodeSafetensorsForTests(bytes: Uint8Array): {
  tensors: Map<string, TestTensor>;
  metadata: Record<string, string>;
} {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>
  >;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors = new Map<string, TestTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const {
      dtype,
      shape,
      data_offsets: [begin, end],
    } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (dtype !== 'F32') throw new Error(`read-safetensors: ${name} is ${dtype}, only F32 is read`);
    const raw = bytes.slice(8 + headerLength + begin, 8 + headerLength + end);
    tensors.set(name, { shape, data: new Float32Array(raw.buffer, raw.byteOffset, (end - begin) / 4) });
  }
  return { tensors, metadata };
}
