/**
 * torchvision `.pth` state dicts without Python, in both layouts `torch.save` has written:
 *
 * - the zip format (torch ≥ 1.6): `<prefix>/data.pkl` (a pickle) and one raw little-endian entry
 *   per storage (`<prefix>/data/<key>`), see `zip-archive.ts`;
 * - the legacy format (earlier, and `_use_new_zipfile_serialization=False`), see `torch-legacy.ts`.
 *
 * The pickle is read by our allow-list interpreter (`torch-pickle.ts`): nothing is executed. Each
 * tensor's size, stride and offset are checked against its storage before a value is read, and
 * the values decoded from a file are at most one per byte of the storages they come from, so
 * decoding holds at most the file, 4 bytes per stored byte, and (for a deflated zip entry, which
 * torch never writes) the inflated entries (`inflateLimit`). Any damage is a `WeightFileError`
 * naming the file.
 *
 * @example
 * ```ts
 * const tensors = decodeTorchCheckpoint(await readFile('wide_resnet50_2-95faca4d.pth'), 'wide_resnet50_2-95faca4d.pth');
 * tensors.get('conv1.weight')?.shape; // [64, 3, 7, 7]
 * ```
 */
import { WeightFileError } from './errors';
import { float16ToFloat32 } from './safetensors';
import type { StateDict, WeightTensor } from './state-dict';
import { isLegacyTorchCheckpoint, readLegacyTorchCheckpoint } from './torch-legacy';
import { type PickleDict, STORAGE_ELEMENT_BYTES, type StorageRef, TensorRef, unpickle } from './torch-pickle';
import { looksLikeZip, readZipArchive } from './zip-archive';

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

interface Layout {
  shape: number[];
  stride: number[];
  offset: number;
  count: number;
}

/** Size, stride and offset as torch gave them, checked to stay inside the storage. */
function tensorLayout(ref: TensorRef, file: string, name: string): Layout {
  const bad = (why: string): never => {
    throw new WeightFileError(file, `tensor '${name}': ${why}`);
  };
  const { size, stride, offset } = ref;
  if (!Array.isArray(size) || !size.every(isIndex)) return bad('its size is not a list of counts');
  if (!Array.isArray(stride) || stride.length !== size.length || !stride.every(isIndex))
    return bad(`its stride does not match its ${size.length} dimensions`);
  if (!isIndex(offset)) return bad('its storage offset is not a count');
  let count = 1;
  for (const d of size) {
    count *= d;
    if (count > Number.MAX_SAFE_INTEGER) return bad(`its size [${size.join(', ')}] is beyond any real tensor`);
  }
  const storage = ref.storage;
  if (count > 0) {
    let last = offset;
    size.forEach((d, i) => (last += (d - 1) * stride[i]));
    if (last >= storage.numel)
      bad(
        `size [${size.join(', ')}], stride [${stride.join(', ')}] and offset ${offset} reach element ${last} of a storage of ${storage.numel}`,
      );
  }
  return { shape: size, stride, offset, count };
}

function readElement(view: DataView, dtype: StorageRef['dtype'], i: number, bf16: Uint32Array, asFloat: Float32Array) {
  switch (dtype) {
    case 'F32':
      return view.getFloat32(i * 4, true);
    case 'F16':
      return float16ToFloat32(view.getUint16(i * 2, true));
    case 'BF16':
      bf16[0] = view.getUint16(i * 2, true) << 16;
      return asFloat[0];
    case 'F64':
      return view.getFloat64(i * 8, true);
    case 'I64':
      return Number(view.getBigInt64(i * 8, true));
    case 'I32':
      return view.getInt32(i * 4, true);
    case 'I16':
      return view.getInt16(i * 2, true);
    case 'I8':
      return view.getInt8(i);
    default:
      return view.getUint8(i);
  }
}

/** Whether strides walk the storage in row-major order with no gaps (size-1 dimensions aside). */
function isRowMajor(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

/** The tensor's values as float32, in row-major order of its size. */
function materialize(layout: Layout, storage: StorageRef, stored: Uint8Array): WeightTensor {
  const elementBytes = STORAGE_ELEMENT_BYTES[storage.dtype];
  // a view of torch < 1.6 starts `storage.offset` elements into the stored storage
  const bytes = stored.subarray(storage.offset * elementBytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bf16 = new Uint32Array(1);
  const asFloat = new Float32Array(bf16.buffer);
  const { shape, stride, offset, count } = layout;
  if (storage.dtype === 'F32' && isRowMajor(shape, stride)) {
    // the common case (every torchvision tensor): one copy of the bytes, read as float32
    const raw = new Uint8Array(count * 4);
    raw.set(bytes.subarray(offset * 4, (offset + count) * 4));
    return { shape: [...shape], data: new Float32Array(raw.buffer) };
  }
  const out = new Float32Array(count);
  const index = new Array<number>(shape.length).fill(0);
  let src = offset;
  for (let i = 0; i < count; i++) {
    out[i] = readElement(view, storage.dtype, src, bf16, asFloat);
    // odometer over the dimensions, last fastest, moving `src` by the strides
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) {
        src += stride[d];
        break;
      }
      src -= (shape[d] - 1) * stride[d];
      index[d] = 0;
    }
  }
  return { shape: [...shape], data: out };
}

/** Finds the tensor dict: the top object, or a common wrapper key (`state_dict`, `model`). */
function findStateDict(top: unknown, file: string, depth = 0): PickleDict {
  if (top instanceof Map && depth < 4) {
    if ([...top.values()].some((v) => v instanceof TensorRef)) return top;
    for (const key of ['state_dict', 'model', 'model_state_dict']) {
      const inner = top.get(key);
      if (inner instanceof Map) return findStateDict(inner, file, depth + 1);
    }
  }
  throw new WeightFileError(
    file,
    'the pickle holds no state dict of tensors (save model.state_dict(), not the model or an optimizer)',
  );
}

/** The tensors of a state dict, each checked against its storage; `storageBytes` finds a storage's bytes. */
function tensorsOf(top: unknown, file: string, storageBytes: (ref: StorageRef, name: string) => Uint8Array): StateDict {
  const dict = findStateDict(top, file);
  const out: StateDict = new Map();
  const used = new Set<Uint8Array>();
  let values = 0,
    storedBytes = 0;
  for (const [key, value] of dict) {
    if (!(value instanceof TensorRef)) continue;
    const name = String(key);
    const storage = value.storage;
    const stored = storageBytes(storage, name);
    const elementBytes = STORAGE_ELEMENT_BYTES[storage.dtype];
    if (storage.offset + storage.numel > storage.storedNumel || stored.length < storage.storedNumel * elementBytes)
      throw new WeightFileError(
        file,
        `storage ${storage.key} of '${name}' holds ${Math.floor(stored.length / elementBytes)} ${storage.dtype} elements, the pickle needs ${storage.offset + storage.numel}: truncated or damaged`,
      );
    const layout = tensorLayout(value, file, name);
    if (!used.has(stored)) {
      used.add(stored);
      storedBytes += stored.length;
    }
    values += layout.count;
    // one decoded value per stored byte at most: what a real state dict needs, and a bound on memory
    if (values > storedBytes)
      throw new WeightFileError(
        file,
        `its tensors claim ${values} values from ${storedBytes} stored bytes (at most one value per stored byte is read): damaged or hostile`,
      );
    out.set(name, materialize(layout, storage, stored));
  }
  return out;
}

function decodeZipCheckpoint(bytes: Uint8Array, file: string): StateDict {
  const zip = readZipArchive(bytes, file);
  const pklName = zip.names().find((n) => n.endsWith('/data.pkl') || n === 'data.pkl');
  if (!pklName) throw new WeightFileError(file, 'zip has no data.pkl: not a torch.save checkpoint');
  const prefix = pklName.slice(0, pklName.length - 'data.pkl'.length);
  if (zip.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim();
    if (order !== 'little')
      throw new WeightFileError(file, `storages are ${order}-endian; re-save it on a little-endian machine`);
  }
  const { value } = unpickle(zip.read(pklName), file, 0);
  const entries = new Map<string, Uint8Array>();
  return tensorsOf(value, file, (ref, name) => {
    const entry = `${prefix}data/${ref.key}`;
    if (!zip.has(entry)) throw new WeightFileError(file, `storage ${ref.key} of '${name}' is missing from the zip`);
    let data = entries.get(entry);
    if (!data) entries.set(entry, (data = zip.read(entry)));
    return data;
  });
}

function decodeLegacyCheckpoint(bytes: Uint8Array, file: string): StateDict {
  const { object, storages } = readLegacyTorchCheckpoint(bytes, file);
  return tensorsOf(object, file, (ref, name) => {
    const data = storages.get(ref.key);
    if (!data) throw new WeightFileError(file, `storage ${ref.key} of '${name}' is not in the file: damaged`);
    return data;
  });
}

/** A `torch.save` state dict, zip or legacy layout, as float32 tensors in the file's key order. */
export function decodeTorchCheckpoint(bytes: Uint8Array, file: string): StateDict {
  if (looksLikeZip(bytes)) return decodeZipCheckpoint(bytes, file);
  if (isLegacyTorchCheckpoint(bytes)) return decodeLegacyCheckpoint(bytes, file);
  const tar = new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar';
  throw new WeightFileError(
    file,
    tar
      ? 'a tar-format torch checkpoint (torch < 0.4): not supported; re-save it with torch.save'
      : 'not a torch checkpoint: neither the zip format of torch ≥ 1.6 nor the legacy format (it starts with neither "PK" nor the legacy magic number)',
  );
}
