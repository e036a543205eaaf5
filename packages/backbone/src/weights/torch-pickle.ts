/**
 * The pickles inside torch checkpoints, read without Python: our own interpreter of the opcodes a
 * state dict uses (protocols 2–4, and Python 2's byte strings for files written before 2018).
 * Nothing is executed: a global outside a short allow-list (OrderedDict, torch's tensor
 * rebuilders, storage types) is refused by name, tensors and storages become plain records
 * (`TensorRef`, `StorageRef`) for `torch-checkpoint.ts` to fill from the storage bytes, and every
 * opcode checks what it takes from the stack, so a damaged pickle is a `WeightFileError` naming the
 * file, never a `TypeError`. Each opcode consumes at least one byte, so reading always ends.
 *
 * Reference: CPython `Lib/pickle.py` (opcode table), torch `serialization.py` (persistent ids
 * `('storage', storage_type, key, location, numel[, view_metadata])`), torch `_utils.py`
 * (`_rebuild_tensor_v2(storage, storage_offset, size, stride, …)`).
 *
 * @example
 * ```ts
 * const { value, end } = unpickle(bytes, 'model.pth', 0); // one pickle from offset 0
 * ```
 */
import { ByteReader } from './byte-reader';
import { WeightFileError } from './errors';

export class Global {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** Dtypes of storages, by the name of their torch storage type. */
export type StorageDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const STORAGE_ELEMENT_BYTES: Record<StorageDtype, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  F64: 8,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

const STORAGE_DTYPE: Record<string, StorageDtype> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/** A storage named by a persistent id: `numel` elements from `offset` of the stored `key`. */
export class StorageRef {
  constructor(
    readonly dtype: StorageDtype,
    readonly key: string,
    /** Elements of the whole stored storage (the persistent id's numel). */
    readonly storedNumel: number,
    /** A view (files from torch < 1.6 could save one): its element offset and size in the stored storage. */
    readonly offset: number,
    readonly numel: number,
  ) {}
}

export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: unknown,
    readonly size: unknown,
    readonly stride: unknown,
  ) {}
}

/** A dict (OrderedDict or plain), kept as a Map so that insertion order survives. */
export type PickleDict = Map<unknown, unknown>;

const TENSOR_REBUILDERS = new Set(['torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_tensor']);

/** Globals a state dict may name; anything else is refused before it could be called. */
function isAllowedGlobal(g: Global): boolean {
  if (g.qualified === 'collections.OrderedDict' || g.qualified === 'torch._utils._rebuild_parameter') return true;
  if (TENSOR_REBUILDERS.has(g.qualified)) return true;
  if ((g.module === 'torch' || g.module === 'torch.cuda') && g.name in STORAGE_DTYPE) return true;
  // inert values some writers reference (dtypes, the untyped storage class)
  return ['torch.float32', 'torch.float16', 'torch.bfloat16', 'torch.storage.UntypedStorage'].includes(g.qualified);
}

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export interface Unpickled {
  value: unknown;
  /** Offset just past the STOP opcode: where the next pickle of a legacy file starts. */
  end: number;
}

/** Reads one pickle starting at `start`. */
export function unpickle(bytes: Uint8Array, file: string, start = 0): Unpickled {
  const r = new ByteReader(bytes, file);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const decoder = new TextDecoder();
  let p = start;
  const unsupported = (why: string): never => {
    throw new WeightFileError(
      file,
      `unsupported pickle content (${why}); only plain state dicts of tensors can be read`,
    );
  };
  const damaged = (why: string): never => {
    throw new WeightFileError(file, `damaged pickle at byte ${p} (${why})`);
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1])) damaged('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1])) damaged('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const at = marks.pop();
    if (at === undefined) return damaged('MARK missing');
    return stack.splice(at);
  };
  const text = (length: number, what: string): string => {
    const s = decoder.decode(r.bytes(p, length, what));
    p += length;
    return s;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, p);
    if (end < 0) damaged('GLOBAL without its newline');
    const s = decoder.decode(bytes.subarray(p, end));
    p = end + 1;
    return s;
  };
  const global = (module: unknown, name: unknown): Global => {
    if (typeof module !== 'string' || typeof name !== 'string') return damaged('STACK_GLOBAL of non-strings');
    const g = new Global(module, name);
    if (!isAllowedGlobal(g)) unsupported(`global ${g.qualified}`);
    return g;
  };
  const list = (v: unknown, op: string): unknown[] => (Array.isArray(v) ? v : damaged(`${op} on a non-list`));
  const dict = (v: unknown, op: string): PickleDict => (v instanceof Map ? v : damaged(`${op} on a non-dict`));
  const storageRef = (pid: unknown): StorageRef => {
    if (!Array.isArray(pid) || pid[0] !== 'storage') return unsupported('a persistent id other than a storage');
    const [, type, key, , numel, view] = pid;
    if (!(type instanceof Global)) return damaged('storage type is not a global');
    const dtype = type.module.startsWith('torch') ? STORAGE_DTYPE[type.name] : undefined;
    if (!dtype) return unsupported(`storage type ${type.qualified}`);
    if (typeof key !== 'string' && typeof key !== 'number') return damaged('storage key is not a string');
    if (!isIndex(numel)) return damaged('storage size is not a count');
    if (view === undefined || view === null) return new StorageRef(dtype, String(key), numel, 0, numel);
    // torch < 1.6: (view key, element offset, view size) within the stored root storage
    if (!Array.isArray(view) || !isIndex(view[1]) || !isIndex(view[2])) return damaged('storage view is malformed');
    return new StorageRef(dtype, String(key), numel, view[1], view[2]);
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof Global)) return unsupported('call of a non-global');
    if (!Array.isArray(args)) return damaged('REDUCE arguments are not a tuple');
    if (fn.qualified === 'collections.OrderedDict') {
      if (args.length) unsupported('OrderedDict built from arguments');
      return new Map();
    }
    if (TENSOR_REBUILDERS.has(fn.qualified)) {
      const [storage, offset, size, stride] = args;
      if (!(storage instanceof StorageRef)) return damaged('tensor without a storage');
      return new TensorRef(storage, offset, size, stride);
    }
    if (fn.qualified === 'torch._utils._rebuild_parameter') return args[0];
    return unsupported(`call of ${fn.qualified}`);
  };

  for (;;) {
    const op = r.u8(p, 'pickle (it ended without STOP)');
    p++;
    switch (op) {
      case 0x80: // PROTO
        p++;
        break;
      case 0x95: // FRAME: a length prefix only
        r.need(p, 8, 'pickle frame');
        p += 8;
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) damaged(`STOP with ${stack.length} values on the stack`);
        return { value: stack[0], end: p };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(r.u8(p, 'BININT1'));
        p += 1;
        break;
      case 0x4d: // BININT2
        stack.push(r.u16(p, 'BININT2'));
        p += 2;
        break;
      case 0x4a: // BININT
        stack.push(r.i32(p, 'BININT'));
        p += 4;
        break;
      case 0x8a: {
        // LONG1: little-endian two's complement; kept exact (bigint) when no number holds it
        const n = r.u8(p++, 'LONG1');
        const raw = r.bytes(p, n, 'LONG1');
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
        if (n > 0 && raw[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        p += n;
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        stack.push(r.f64be(p, 'BINFLOAT'));
        p += 8;
        break;
      case 0x58: // BINUNICODE
      case 0x54: {
        // BINSTRING (Python 2 str)
        const n = r.u32(p, 'string length');
        p += 4;
        stack.push(text(n, 'string'));
        break;
      }
      case 0x8c: // SHORT_BINUNICODE
      case 0x55: {
        // SHORT_BINSTRING (Python 2 str)
        const n = r.u8(p++, 'string length');
        stack.push(text(n, 'string'));
        break;
      }
      case 0x8d: {
        // BINUNICODE8
        const n = r.u64(p, 'string length');
        p += 8;
        stack.push(text(n, 'string'));
        break;
      }
      case 0x43: {
        // SHORT_BINBYTES
        const n = r.u8(p++, 'bytes length');
        stack.push(r.bytes(p, n, 'bytes'));
        p += n;
        break;
      }
      case 0x42: {
        // BINBYTES
        const n = r.u32(p, 'bytes length');
        p += 4;
        stack.push(r.bytes(p, n, 'bytes'));
        p += n;
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        stack.push(global(pop(), name));
        break;
      }
      case 0x71: // BINPUT
        memo.set(r.u8(p++, 'BINPUT'), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(r.u32(p, 'LONG_BINPUT'), top());
        p += 4;
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const key = op === 0x68 ? r.u8(p, 'BINGET') : r.u32(p, 'LONG_BINGET');
        p += op === 0x68 ? 1 : 4;
        if (!memo.has(key)) damaged(`memo ${key} was never stored`);
        stack.push(memo.get(key));
        break;
      }
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        list(top(), 'APPEND').push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        list(top(), 'APPENDS').push(...items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        dict(top(), 'SETITEM').set(k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const d = dict(top(), 'SETITEMS');
        if (items.length % 2) damaged('SETITEMS with an odd number of values');
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x62: // BUILD: the state of an OrderedDict (its _metadata), not needed
        pop();
        top();
        break;
      case 0x51: // BINPERSID
        stack.push(storageRef(pop()));
        break;
      default:
        unsupported(`opcode 0x${op.toString(16)}`);
    }
  }
}
