/**
 * The legacy `torch.save` layout (torch < 1.6, and `_use_new_zipfile_serialization=False` since):
 * torchvision's `wide_resnet50_2-95faca4d.pth` and `vgg19_bn-c79401a0.pth`, the weights the CFA
 * paper used, are stored this way. One file holds, back to back (torch `serialization.py`,
 * `_legacy_save`):
 *
 *   1. a pickle of the magic number 0x1950a86a20f9469cfc6c,
 *   2. a pickle of the protocol version (1001),
 *   3. a pickle of the writer's sys info ({ protocol_version, little_endian, type_sizes }),
 *   4. the pickled object, whose persistent ids name storages by key,
 *   5. a pickle of the list of storage keys,
 *   6. for each key in that order: the element count (8 bytes, little-endian), then the raw bytes.
 *
 * All pickles go through the allow-list interpreter (`torch-pickle.ts`): nothing is executed. A
 * storage's size is checked against the bytes left before it is taken (a view, no copy), so a
 * truncated file or a hostile element count is a `WeightFileError`, never an allocation.
 *
 * @example
 * ```ts
 * if (isLegacyTorchCheckpoint(bytes)) {
 *   const { object, storages } = readLegacyTorchCheckpoint(bytes, 'vgg19_bn-c79401a0.pth');
 * }
 * ```
 */
import { ByteReader } from './byte-reader';
import { WeightFileError } from './errors';
import { STORAGE_ELEMENT_BYTES, StorageRef, type StorageDtype, TensorRef, unpickle } from './torch-pickle';

const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;

/**
 * Whether the bytes start with the legacy magic-number pickle: protocol 2, LONG1 of 10 bytes,
 * 0x1950a86a20f9469cfc6c little-endian.
 */
export function isLegacyTorchCheckpoint(bytes: Uint8Array): boolean {
  const head = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
  return bytes.length >= head.length && head.every((b, i) => bytes[i] === b);
}

export interface LegacyCheckpoint {
  /** The pickled object (usually the state dict), storages as `StorageRef`, tensors as `TensorRef`. */
  object: unknown;
  /** Storage key → its raw little-endian bytes (views of the file). */
  storages: Map<string, Uint8Array>;
}

/** Every storage the object names, by key, with its dtype (a key named with two dtypes is damage). */
function storageDtypes(object: unknown, file: string): Map<string, StorageDtype> {
  const dtypes = new Map<string, StorageDtype>();
  const note = (ref: StorageRef) => {
    const seen = dtypes.get(ref.key);
    if (seen && seen !== ref.dtype)
      throw new WeightFileError(file, `storage ${ref.key} is named both as ${seen} and as ${ref.dtype}: damaged`);
    dtypes.set(ref.key, ref.dtype);
  };
  // a state dict is flat (or wrapped once or twice); the walk is bounded and cycles are skipped
  const seen = new Set<unknown>();
  const walk = (v: unknown, depth: number) => {
    if (depth > 8 || seen.has(v)) return;
    if (v instanceof TensorRef) note(v.storage);
    else if (v instanceof StorageRef) note(v);
    else if (v instanceof Map || Array.isArray(v)) {
      seen.add(v);
      for (const x of v instanceof Map ? v.values() : v) walk(x, depth + 1);
    }
  };
  walk(object, 0);
  return dtypes;
}

export function readLegacyTorchCheckpoint(bytes: Uint8Array, file: string): LegacyCheckpoint {
  const r = new ByteReader(bytes, file);
  const magic = unpickle(bytes, file, 0);
  if (magic.value !== MAGIC_NUMBER)
    throw new WeightFileError(file, 'not a torch checkpoint: the legacy magic number is missing');
  const protocol = unpickle(bytes, file, magic.end);
  if (protocol.value !== PROTOCOL_VERSION)
    throw new WeightFileError(
      file,
      `legacy torch checkpoint of protocol version ${String(protocol.value)}; this reader knows ${PROTOCOL_VERSION}`,
    );
  const sysInfo = unpickle(bytes, file, protocol.end);
  if (sysInfo.value instanceof Map && sysInfo.value.get('little_endian') === false)
    throw new WeightFileError(file, 'written on a big-endian machine; re-save it on a little-endian one');
  const body = unpickle(bytes, file, sysInfo.end);
  const keyList = unpickle(bytes, file, body.end);
  if (!Array.isArray(keyList.value) || !keyList.value.every((k) => typeof k === 'string'))
    throw new WeightFileError(file, 'the storage key list of the legacy checkpoint is damaged');
  const dtypes = storageDtypes(body.value, file);
  const storages = new Map<string, Uint8Array>();
  let p = keyList.end;
  for (const key of keyList.value as string[]) {
    const dtype = dtypes.get(key);
    if (!dtype) throw new WeightFileError(file, `storage ${key} is stored but no tensor names it: damaged`);
    const count = r.u64(p, `element count of storage ${key}`);
    const size = count * STORAGE_ELEMENT_BYTES[dtype];
    if (size > r.length - (p + 8))
      throw new WeightFileError(
        file,
        `storage ${key} claims ${count} ${dtype} elements (${size} bytes), more than the ${Math.max(0, r.length - p - 8)} bytes left in the file: truncated or damaged`,
      );
    storages.set(key, r.bytes(p + 8, size, `storage ${key}`));
    p += 8 + size;
  }
  return { object: body.value, storages };
}
