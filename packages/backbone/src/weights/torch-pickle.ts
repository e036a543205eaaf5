/**
 * torchvision `.pth` state dicts without Python: `torch.save` writes a zip holding `data.pkl` (a
 * pickle) and one raw little-endian file per storage (`data/<key>`). We read the pickle with our own
 * interpreter of the opcodes state dicts use; nothing is executed, and any global outside a short
 * allow-list (OrderedDict, tensor rebuilders, storage types) is refused with a clear error.
 *
 * @example
 * ```ts
 * const tensors = decodeTorchCheckpoint(await readFile('resnet18-f37072fd.pth'), 'resnet18-f37072fd.pth');
 * tensors.get('conv1.weight')?.shape; // [64, 3, 7, 7]
 * ```
 */
import { inflateRawSync } from 'node:zlib';
import { WeightFileError, float16ToFloat32 } from './safetensors';
import type { StateDict, WeightTensor } from './state-dict';

function readZip(bytes: Uint8Array, file: string): Map<string, () => Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    const legacy =
      bytes[0] === 0x80
        ? ' (this looks like the legacy pre-1.6 torch format: re-save it with a recent torch.save)'
        : '';
    throw new WeightFileError(file, `not a zip-format torch checkpoint${legacy}`);
  }
  let count = view.getUint16(eocd + 10, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (cdOffset === 0xffffffff || count === 0xffff) {
    // ZIP64: the locator sits just before the EOCD record
    const locator = eocd - 20;
    if (locator < 0 || view.getUint32(locator, true) !== 0x07064b50)
      throw new WeightFileError(file, 'zip64 locator missing');
    const z64 = Number(view.getBigUint64(locator + 8, true));
    count = Number(view.getBigUint64(z64 + 32, true));
    cdOffset = Number(view.getBigUint64(z64 + 48, true));
  }
  const entries = new Map<string, () => Uint8Array>();
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (view.getUint32(p, true) !== 0x02014b50) throw new WeightFileError(file, 'corrupt zip central directory');
    const method = view.getUint16(p + 10, true);
    let compressed = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    let localOffset = view.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLength));
    // ZIP64 extra field carries the 64-bit sizes/offset when the 32-bit ones saturate
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = view.getUint16(e, true);
      const len = view.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) {
          size = Number(view.getBigUint64(q, true));
          q += 8;
        }
        if (compressed === 0xffffffff) {
          compressed = Number(view.getBigUint64(q, true));
          q += 8;
        }
        if (localOffset === 0xffffffff) {
          localOffset = Number(view.getBigUint64(q, true));
        }
      }
      e += 4 + len;
    }
    p = extraEnd + commentLength;
    entries.set(name, () => {
      if (view.getUint32(localOffset, true) !== 0x04034b50)
        throw new WeightFileError(file, `corrupt zip entry ${name}`);
      const start = localOffset + 30 + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
      if (start + compressed > bytes.length) throw new WeightFileError(file, `zip entry ${name} is truncated`);
      const raw = bytes.subarray(start, start + compressed);
      if (method === 0) return raw;
      if (method === 8) return inflateRawSync(raw);
      throw new WeightFileError(file, `zip entry ${name} uses compression method ${method}`);
    });
  }
  return entries;
}

// ---- pickle -----------------------------------------------------------------------------------

class Global {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

class StorageRef {
  constructor(
    readonly dtype: string,
    readonly key: string,
    readonly numel: number,
  ) {}
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

/** A dict (OrderedDict or plain) — kept as a Map so that insertion order survives. */
type PickleDict = Map<unknown, unknown>;
const MARK = Symbol('mark');

const ALLOWED_GLOBALS = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch.FloatStorage',
  'torch.HalfStorage',
  'torch.BFloat16Storage',
  'torch.DoubleStorage',
  'torch.LongStorage',
  'torch.IntStorage',
  'torch.ByteStorage',
  'torch.BoolStorage',
  'torch.storage.UntypedStorage',
  'torch.float32',
  'torch.float16',
  'torch.bfloat16',
]);

const STORAGE_DTYPE: Record<string, string> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ByteStorage: 'U8',
  BoolStorage: 'U8',
};

function unpickle(bytes: Uint8Array, file: string): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let p = 0;
  const fail = (why: string): never => {
    throw new WeightFileError(
      file,
      `unsupported pickle content (${why}); only plain state dicts of tensors can be read`,
    );
  };
  const popMark = (): unknown[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail('MARK missing');
    const items = stack.splice(i);
    return items.slice(1);
  };
  const text = (len: number): string => {
    const s = new TextDecoder().decode(bytes.subarray(p, p + len));
    p += len;
    return s;
  };
  const readLine = (): string => {
    const end = bytes.indexOf(0x0a, p);
    const s = new TextDecoder().decode(bytes.subarray(p, end));
    p = end + 1;
    return s;
  };
  const call = (fn: unknown, args: unknown[]): unknown => {
    if (!(fn instanceof Global)) return fail('call of a non-global');
    switch (fn.qualified) {
      case 'collections.OrderedDict':
        return new Map();
      case 'torch._utils._rebuild_tensor_v2': {
        const [storage, offset, size, stride] = args as [StorageRef, number, number[], number[]];
        if (!(storage instanceof StorageRef)) return fail('tensor without storage');
        return new TensorRef(storage, offset, size, stride);
      }
      case 'torch._utils._rebuild_parameter':
        return args[0];
      default:
        return fail(`call of ${fn.qualified}`);
    }
  };
  for (;;) {
    if (p >= bytes.length) fail('pickle ended without STOP');
    const op = bytes[p++];
    switch (op) {
      case 0x80:
        p++;
        break; // PROTO
      case 0x95:
        p += 8;
        break; // FRAME
      case 0x2e:
        return stack.pop(); // STOP
      case 0x28:
        stack.push(MARK);
        break; // MARK
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x29:
        stack.push([]);
        break; // EMPTY_TUPLE
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x4b:
        stack.push(bytes[p]);
        p += 1;
        break; // BININT1
      case 0x4d:
        stack.push(view.getUint16(p, true));
        p += 2;
        break; // BININT2
      case 0x4a:
        stack.push(view.getInt32(p, true));
        p += 4;
        break; // BININT
      case 0x8a: {
        // LONG1
        const n = bytes[p++];
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[p + i]);
        if (n > 0 && bytes[p + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        p += n;
        stack.push(Number(v));
        break;
      }
      case 0x47:
        stack.push(view.getFloat64(p, false));
        p += 8;
        break; // BINFLOAT (big-endian)
      case 0x58: {
        const n = view.getUint32(p, true);
        p += 4;
        stack.push(text(n));
        break;
      } // BINUNICODE
      case 0x8c: {
        const n = bytes[p++];
        stack.push(text(n));
        break;
      } // SHORT_BINUNICODE
      case 0x8d: {
        const n = Number(view.getBigUint64(p, true));
        p += 8;
        stack.push(text(n));
        break;
      } // BINUNICODE8
      case 0x43: {
        const n = bytes[p++];
        stack.push(bytes.subarray(p, p + n));
        p += n;
        break;
      } // SHORT_BINBYTES
      case 0x42: {
        const n = view.getUint32(p, true);
        p += 4;
        stack.push(bytes.subarray(p, p + n));
        p += n;
        break;
      } // BINBYTES
      case 0x63: {
        // GLOBAL "module\nname\n"
        const g = new Global(readLine(), readLine());
        if (!ALLOWED_GLOBALS.has(g.qualified)) fail(`global ${g.qualified}`);
        stack.push(g);
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = stack.pop() as string;
        const g = new Global(stack.pop() as string, name);
        if (!ALLOWED_GLOBALS.has(g.qualified)) fail(`global ${g.qualified}`);
        stack.push(g);
        break;
      }
      case 0x71:
        memo.set(bytes[p++], stack.at(-1));
        break; // BINPUT
      case 0x72:
        memo.set(view.getUint32(p, true), stack.at(-1));
        p += 4;
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, stack.at(-1));
        break; // MEMOIZE
      case 0x68:
        stack.push(memo.get(bytes[p++]));
        break; // BINGET
      case 0x6a:
        stack.push(memo.get(view.getUint32(p, true)));
        p += 4;
        break; // LONG_BINGET
      case 0x74:
        stack.push(popMark());
        break; // TUPLE
      case 0x85:
        stack.push([stack.pop()]);
        break; // TUPLE1
      case 0x86: {
        const b = stack.pop();
        const a = stack.pop();
        stack.push([a, b]);
        break;
      } // TUPLE2
      case 0x87: {
        const c = stack.pop();
        const b = stack.pop();
        const a = stack.pop();
        stack.push([a, b, c]);
        break;
      } // TUPLE3
      case 0x61: {
        const v = stack.pop();
        (stack.at(-1) as unknown[]).push(v);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        (stack.at(-1) as unknown[]).push(...items);
        break;
      } // APPENDS
      case 0x73: {
        const v = stack.pop();
        const k = stack.pop();
        (stack.at(-1) as PickleDict).set(k, v);
        break;
      } // SETITEM
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const d = stack.at(-1) as PickleDict;
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x52: {
        const args = stack.pop() as unknown[];
        const fn = stack.pop();
        stack.push(call(fn, args));
        break;
      } // REDUCE
      case 0x62:
        stack.pop();
        break; // BUILD: state of an OrderedDict (_metadata): not needed
      case 0x51: {
        // BINPERSID: ('storage', storage_type, key, location, numel)
        const pid = stack.pop() as unknown[];
        if (!Array.isArray(pid) || pid[0] !== 'storage') fail('unknown persistent id');
        const type = pid[1] as Global;
        const dtype = STORAGE_DTYPE[type.name] ?? fail(`storage type ${type.qualified}`);
        stack.push(new StorageRef(dtype, String(pid[2]), Number(pid[4])));
        break;
      }
      default:
        fail(`opcode 0x${op.toString(16)}`);
    }
  }
}

function materialize(ref: TensorRef, storageBytes: Uint8Array, file: string, name: string): WeightTensor {
  const dtype = ref.storage.dtype;
  const size = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, U8: 1 }[dtype]!;
  if (storageBytes.length < ref.storage.numel * size)
    throw new WeightFileError(file, `storage of '${name}' is truncated`);
  const view = new DataView(storageBytes.buffer, storageBytes.byteOffset, storageBytes.byteLength);
  const read = (i: number): number => {
    switch (dtype) {
      case 'F32':
        return view.getFloat32(i * 4, true);
      case 'F16':
        return float16ToFloat32(view.getUint16(i * 2, true));
      case 'BF16':
        return new Float32Array(new Uint32Array([view.getUint16(i * 2, true) << 16]).buffer)[0];
      case 'F64':
        return view.getFloat64(i * 8, true);
      case 'I64':
        return Number(view.getBigInt64(i * 8, true));
      case 'I32':
        return view.getInt32(i * 4, true);
      default:
        return view.getUint8(i);
    }
  };
  const shape = ref.size;
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  const index = new Array(shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    let src = ref.offset;
    for (let d = 0; d < shape.length; d++) src += index[d] * ref.stride[d];
    out[i] = read(src);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return { shape, data: out };
}

/** Finds the tensor dict: the top object, or a common wrapper key (`state_dict`, `model`). */
function findStateDict(top: unknown, file: string): PickleDict {
  if (top instanceof Map) {
    if ([...top.values()].some((v) => v instanceof TensorRef)) return top;
    for (const key of ['state_dict', 'model', 'model_state_dict']) {
      const inner = top.get(key);
      if (inner instanceof Map) return findStateDict(inner, file);
    }
  }
  throw new WeightFileError(file, 'the pickle holds no state dict of tensors');
}

export function decodeTorchCheckpoint(bytes: Uint8Array, file: string): StateDict {
  const entries = readZip(bytes, file);
  const pklName = [...entries.keys()].find((n) => n.endsWith('/data.pkl') || n === 'data.pkl');
  if (!pklName) throw new WeightFileError(file, 'zip has no data.pkl: not a torch.save checkpoint');
  const prefix = pklName.slice(0, pklName.length - 'data.pkl'.length);
  const dict = findStateDict(unpickle(entries.get(pklName)!(), file), file);
  const out: StateDict = new Map();
  for (const [key, value] of dict) {
    if (!(value instanceof TensorRef)) continue;
    const entry = entries.get(`${prefix}data/${value.storage.key}`);
    if (!entry)
      throw new WeightFileError(file, `storage ${value.storage.key} of '${String(key)}' is missing from the zip`);
    out.set(String(key), materialize(value, entry(), file, String(key)));
  }
  return out;
}
