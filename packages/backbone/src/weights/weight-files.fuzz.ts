/**
 * Property-based tests of the weight-file decoders (run by weight-files.fuzz.spec.ts in a worker
 * under a watchdog): safetensors, torch zip checkpoints and legacy torch checkpoints, on random
 * bytes, truncations, mutations of valid files, hostile sizes / strides / offsets / element counts,
 * deflated entries with lying sizes (zip bombs) and random pickle opcode streams.
 *
 * The property, for every input: decoding returns a well-formed state dict (each tensor holds
 * exactly its shape's values) within the stated memory bound, or throws a `WeightFileError` naming
 * the file — never a `RangeError` / `TypeError`, a hang or unbounded memory. Where the right answer
 * is known it must be the answer: a truncated file always fails; a mutated zip checkpoint fails or
 * decodes to exactly the original (every entry carries a CRC-32); a tensor layout decodes to the
 * values a direct strided gather gives exactly when its layout is valid, and fails otherwise.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { byteEdits, checkProperties, type NoteInput, type PropertyOutcome, withByteEdits } from '@cfa/io/testing';
import { WeightFileError } from './errors';
import { decodeSafetensors, encodeSafetensors } from './safetensors';
import type { StateDict } from './state-dict';
import { decodeTorchCheckpoint } from './torch-checkpoint';
import {
  ELEMENT_BYTES,
  legacyCheckpoint,
  type StorageSpec,
  type TensorSpec,
  type TestDtype,
  zipArchive,
  zipCheckpoint,
} from './testing/torch-file-writer';

const FILE = 'fuzzed.bin';
const legacyFixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../__fixtures__/legacy-torch/${name}`, import.meta.url)));

const hex = (bytes: Uint8Array) => Buffer.from(bytes.subarray(0, 160)).toString('hex');

/**
 * The decoder's contract on one input: a well-formed result within `boundBytes` of decoded data,
 * or a WeightFileError naming the file. Returns the result (undefined for the error).
 */
function decodedOrNamedError(decode: () => StateDict, boundBytes: number): StateDict | undefined {
  let tensors: StateDict;
  try {
    tensors = decode();
  } catch (error) {
    if (error instanceof WeightFileError && error.file === FILE && error.message.startsWith(`${FILE}: `))
      return undefined;
    throw error;
  }
  let bytes = 0;
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || t.data.length !== count)
      throw new Error(`tensor '${name}': shape [${t.shape}] with ${t.data.length} values`);
    bytes += t.data.byteLength;
  }
  if (bytes > boundBytes) throw new Error(`decoded ${bytes} bytes, past the bound of ${boundBytes}`);
  return tensors;
}

const sameTensors = (a: StateDict, b: StateDict) =>
  a.size === b.size &&
  [...a].every(([k, t]) => {
    const u = b.get(k);
    return (
      !!u &&
      t.shape.join() === u.shape.join() &&
      t.data.every((v, i) => Object.is(v, u.data[i]) || (Number.isNaN(v) && Number.isNaN(u.data[i])))
    );
  });

// ---- hostile tensor layouts, with the answer a direct strided gather gives ----

/** Small counts mostly (layouts that fit, whose values are checked), sometimes the sizes an attacker picks. */
const count = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 31 - 1, 2 ** 32, 2 ** 40, 2 ** 53 - 1, 2 ** 62) },
);

interface LayoutCase {
  dtype: TestDtype;
  elements: number;
  tensors: TensorSpec[];
  claimedNumel?: number;
}

const layoutCase: fc.Arbitrary<LayoutCase> = fc
  .record({
    dtype: fc.constantFrom<TestDtype>('F32', 'U8'),
    elements: fc.oneof(
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) },
      { weight: 4, arbitrary: fc.integer({ min: 16, max: 64 }) },
    ),
    layouts: fc.array(
      fc.record({
        size: fc.array(count, { maxLength: 3 }),
        strideExtra: fc.oneof(
          { weight: 10, arbitrary: fc.constant(0) },
          { weight: 1, arbitrary: fc.constantFrom(-1, 1) },
        ),
        stride: fc.array(count, { maxLength: 4 }),
        offset: count,
      }),
      { minLength: 1, maxLength: 2 },
    ),
    claimedNumel: fc.option(count, { nil: undefined, freq: 4 }),
  })
  .map(({ dtype, elements, layouts, claimedNumel }) => ({
    dtype,
    elements,
    claimedNumel,
    tensors: layouts.map((l, i) => ({
      name: `t${i}`,
      key: '0',
      dtype,
      numel: claimedNumel,
      size: l.size,
      // mostly as many strides as dimensions, sometimes one more or one less
      stride: l.stride
        .slice(0, Math.max(0, l.size.length + (l.strideExtra === 0 ? 0 : l.strideExtra)))
        .concat(Array(Math.max(0, l.size.length - l.stride.length)).fill(1)),
      offset: l.offset,
    })),
  }));

function storageOf(c: LayoutCase): StorageSpec {
  const data = new Uint8Array(c.elements * ELEMENT_BYTES[c.dtype]);
  const view = new DataView(data.buffer);
  for (let i = 0; i < c.elements; i++) {
    if (c.dtype === 'F32') view.setFloat32(i * 4, i + 0.5, true);
    else view.setUint8(i, i % 256);
  }
  return { key: '0', dtype: c.dtype, data };
}

/** What torch would load, or undefined where the layout leaves the storage or the bound. */
function gathered(c: LayoutCase): StateDict | undefined {
  const numel = c.claimedNumel ?? c.elements;
  if (numel > c.elements) return undefined;
  const out: StateDict = new Map();
  let values = 0;
  const storedBytes = c.elements * ELEMENT_BYTES[c.dtype];
  for (const t of c.tensors) {
    if (t.stride.length !== t.size.length) return undefined;
    const all = [...t.size, ...t.stride, t.offset];
    if (!all.every((v) => Number.isSafeInteger(v) && v >= 0)) return undefined;
    let n = 1;
    for (const d of t.size) {
      n *= d;
      if (n > Number.MAX_SAFE_INTEGER) return undefined;
    }
    if (n > 0) {
      const last = t.offset + t.size.reduce((s, d, i) => s + (d - 1) * t.stride[i], 0);
      if (last >= numel) return undefined;
    }
    values += n;
    if (values > storedBytes) return undefined;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let rest = i,
        at = t.offset;
      for (let d = t.size.length - 1; d >= 0; d--) {
        at += (rest % t.size[d]) * t.stride[d];
        rest = Math.floor(rest / t.size[d]);
      }
      data[i] = c.dtype === 'F32' ? at + 0.5 : at % 256;
    }
    out.set(t.name, { shape: t.size, data });
  }
  return out;
}

// ---- random pickle opcode streams ----

const pickleToken = fc.oneof(
  fc.constantFrom(
    [0x28], // MARK
    [0x7d], // EMPTY_DICT
    [0x5d], // EMPTY_LIST
    [0x29], // EMPTY_TUPLE
    [0x4e], // NONE
    [0x88], // NEWTRUE
    [0x74], // TUPLE
    [0x85],
    [0x86],
    [0x87],
    [0x61], // APPEND
    [0x65], // APPENDS
    [0x73], // SETITEM
    [0x75], // SETITEMS
    [0x52], // REDUCE
    [0x62], // BUILD
    [0x51], // BINPERSID
    [0x94], // MEMOIZE
    [0x93], // STACK_GLOBAL
    [0x2e], // STOP
  ),
  fc.integer({ min: 0, max: 255 }).map((v) => [0x4b, v]), // BININT1
  fc.integer({ min: 0, max: 8 }).map((v) => [0x71, v]), // BINPUT
  fc.integer({ min: 0, max: 8 }).map((v) => [0x68, v]), // BINGET
  fc
    .constantFrom('storage', 'cpu', '0', 'w', 'torch', 'FloatStorage', 'collections', 'OrderedDict')
    .map((s) => [0x8c, s.length, ...new TextEncoder().encode(s)]),
  fc
    .constantFrom(
      'collections\nOrderedDict\n',
      'torch._utils\n_rebuild_tensor_v2\n',
      'torch\nFloatStorage\n',
      'torch._utils\n_rebuild_parameter\n',
      'os\nsystem\n',
    )
    .map((s) => [0x63, ...new TextEncoder().encode(s)]),
  fc.uint8Array({ maxLength: 4 }).map((b) => [...b]),
);

const pickleStream = fc
  .array(pickleToken, { maxLength: 60 })
  .map((tokens) => Uint8Array.from([0x80, 2, ...tokens.flat(), 0x2e]));

// ---- the properties ----

function safetensorsSample(): Uint8Array {
  const tensors: StateDict = new Map([
    ['conv.weight', { shape: [2, 3], data: Float32Array.from([1, -2, 3, -4, 5, -6]) }],
    ['bn.bias', { shape: [3], data: Float32Array.from([0.5, 0.25, -1]) }],
    ['bn.num_batches_tracked', { shape: [], data: Float32Array.from([7]) }],
  ]);
  return encodeSafetensors(tensors, { metadata: { format: 'pt' } });
}

const headerEntry = fc.record(
  {
    dtype: fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'C64', '__proto__', 'toString', ''),
    shape: fc.oneof(fc.array(fc.oneof(count, fc.integer({ min: -3, max: -1 }), fc.double())), fc.anything()),
    data_offsets: fc.oneof(fc.tuple(count, count), fc.anything()),
  },
  { requiredKeys: [] },
);

function hostileSafetensors(header: unknown, dataLength: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

export async function safetensorsProperties(note: NoteInput): Promise<PropertyOutcome> {
  const valid = safetensorsSample();
  const original = decodeSafetensors(valid, FILE).tensors;
  const decode = (bytes: Uint8Array) => () => {
    note(hex(bytes));
    return decodeSafetensors(bytes, FILE).tensors;
  };
  const dataStart = 8 + Number(new DataView(valid.buffer).getBigUint64(0, true));
  return checkProperties(
    fc,
    [
      {
        name: 'random bytes',
        property: fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
          decodedOrNamedError(decode(bytes), 2 * bytes.length);
        }),
      },
      {
        name: 'truncations fail',
        property: fc.property(fc.nat({ max: valid.length - 1 }), (n) => {
          const cut = valid.subarray(0, n);
          return decodedOrNamedError(decode(cut), 2 * n) === undefined;
        }),
      },
      {
        name: 'mutations: a named error, or a file whose data bytes changed decodes to the same keys and shapes',
        property: fc.property(byteEdits(valid.length), (edits) => {
          const bytes = withByteEdits(valid, edits);
          const got = decodedOrNamedError(decode(bytes), 2 * bytes.length);
          if (got && edits.every(([at]) => at >= dataStart))
            return [...original].every(([k, t]) => got.get(k)?.shape.join() === t.shape.join());
          return true;
        }),
      },
      {
        name: 'headers of any JSON value',
        property: fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 64 }), (header, dataLength) => {
          const bytes = hostileSafetensors(header, dataLength);
          decodedOrNamedError(decode(bytes), 2 * bytes.length);
        }),
      },
      {
        name: 'well-typed entries at random offsets: overlapping ranges are refused, the rest decodes',
        property: fc.property(
          fc.array(fc.tuple(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 16 })), { maxLength: 6 }),
          (ranges) => {
            const header = Object.fromEntries(
              ranges.map(([at, n], i) => [`t${i}`, { dtype: 'F32', shape: [n], data_offsets: [4 * at, 4 * (at + n)] }]),
            );
            const bytes = hostileSafetensors(header, 4 * 32);
            const got = decodedOrNamedError(decode(bytes), 2 * bytes.length);
            const spans = ranges.filter(([, n]) => n > 0).sort((a, b) => a[0] - b[0]);
            const overlap = spans.some((r, i) => i > 0 && r[0] < spans[i - 1][0] + spans[i - 1][1]);
            return overlap ? got === undefined : got?.size === ranges.length;
          },
        ),
      },
      {
        name: 'hostile headers (dtypes, shapes, offsets, metadata)',
        property: fc.property(
          fc.dictionary(
            fc.oneof(fc.string(), fc.constant('__metadata__'), fc.constant('__proto__')),
            fc.oneof(headerEntry, fc.jsonValue()),
            { maxKeys: 4 },
          ),
          fc.integer({ min: 0, max: 256 }),
          (header, dataLength) => {
            const bytes = hostileSafetensors(header, dataLength);
            decodedOrNamedError(decode(bytes), 2 * bytes.length);
          },
        ),
      },
    ],
    { runs: 1000 },
  );
}

export async function torchZipProperties(note: NoteInput): Promise<PropertyOutcome> {
  const valid = legacyFixture('mixed.zip.pth');
  const original = decodeTorchCheckpoint(valid, FILE);
  const decode = (bytes: Uint8Array) => () => {
    note(hex(bytes));
    return decodeTorchCheckpoint(bytes, FILE);
  };
  return checkProperties(
    fc,
    [
      {
        name: 'random bytes, some after a zip signature',
        property: fc.property(fc.boolean(), fc.uint8Array({ maxLength: 2048 }), (zip, tail) => {
          const bytes = zip ? Uint8Array.from([0x50, 0x4b, 3, 4, ...tail]) : tail;
          decodedOrNamedError(decode(bytes), 4 * bytes.length);
        }),
      },
      {
        name: 'truncations fail',
        property: fc.property(fc.nat({ max: valid.length - 1 }), (n) => {
          return decodedOrNamedError(decode(valid.subarray(0, n)), 4 * n) === undefined;
        }),
      },
      {
        name: 'mutations: a named error, or exactly the original (CRC-32 on every entry)',
        property: fc.property(byteEdits(valid.length), (edits) => {
          const got = decodedOrNamedError(decode(withByteEdits(valid, edits)), 4 * valid.length);
          return got === undefined || sameTensors(got, original);
        }),
      },
      {
        name: 'hostile sizes, strides, offsets and storage sizes: the strided gather exactly when valid',
        property: fc.property(layoutCase, (c) => {
          const bytes = zipCheckpoint(c.tensors, [storageOf(c)]);
          const got = decodedOrNamedError(decode(bytes), 4 * bytes.length);
          const expected = gathered(c);
          return expected ? !!got && sameTensors(got, expected) : got === undefined;
        }),
      },
      {
        name: 'deflated entries with lying sizes (zip bombs): decoded only when the size is true',
        property: fc.property(
          fc.integer({ min: 1, max: 4096 }),
          fc.oneof(fc.constant(0), fc.integer({ min: -8, max: 8 }), fc.constantFrom(2 ** 31, 2 ** 32 - 2)),
          (elements, lie) => {
            const data = new Uint8Array(elements * 4);
            const declared = Math.max(0, data.length + lie);
            const tensors = [{ name: 'w', key: '0', size: [elements], stride: [1], offset: 0 }];
            const bytes = zipCheckpoint(tensors, [{ key: '0', dtype: 'F32', data }], {
              method: 8,
              declaredSize: declared,
            });
            const got = decodedOrNamedError(decode(bytes), 4 * data.length);
            return declared === data.length ? got?.get('w')?.data.length === elements : got === undefined;
          },
        ),
      },
      {
        name: 'random pickle opcode streams as data.pkl',
        property: fc.property(pickleStream, (pickle) => {
          const archive = zipArchive([
            { name: 'archive/data.pkl', data: pickle },
            { name: 'archive/data/0', data: new Uint8Array(16) },
          ]);
          decodedOrNamedError(decode(archive), 4 * archive.length);
        }),
      },
    ],
    { runs: 1000 },
  );
}

export async function torchLegacyProperties(note: NoteInput): Promise<PropertyOutcome> {
  const valid = legacyFixture('mixed.legacy.pth');
  const decode = (bytes: Uint8Array) => () => {
    note(hex(bytes));
    return decodeTorchCheckpoint(bytes, FILE);
  };
  const magic = valid.subarray(0, 14);
  return checkProperties(
    fc,
    [
      {
        name: 'random bytes after the legacy magic number',
        property: fc.property(fc.uint8Array({ maxLength: 2048 }), (tail) => {
          const bytes = Uint8Array.from([...magic, ...tail]);
          decodedOrNamedError(decode(bytes), 4 * bytes.length);
        }),
      },
      {
        name: 'truncations fail',
        property: fc.property(fc.nat({ max: valid.length - 1 }), (n) => {
          return decodedOrNamedError(decode(valid.subarray(0, n)), 4 * n) === undefined;
        }),
      },
      {
        name: 'mutations: a named error or a well-formed state dict',
        property: fc.property(byteEdits(valid.length), (edits) => {
          decodedOrNamedError(decode(withByteEdits(valid, edits)), 4 * valid.length);
        }),
      },
      {
        name: 'hostile sizes, strides, offsets and storage sizes: the strided gather exactly when valid',
        property: fc.property(layoutCase, (c) => {
          const bytes = legacyCheckpoint(c.tensors, [storageOf(c)]);
          const got = decodedOrNamedError(decode(bytes), 4 * bytes.length);
          const expected = gathered(c);
          return expected ? !!got && sameTensors(got, expected) : got === undefined;
        }),
      },
      {
        name: 'hostile element counts before a storage: decoded only when the count is true',
        property: fc.property(
          fc.integer({ min: 0, max: 64 }),
          fc.oneof(
            fc.constant(0n),
            fc.bigInt({ min: -8n, max: 8n }),
            fc.constantFrom(2n ** 32n, 2n ** 53n, 2n ** 62n, 2n ** 64n - 1n),
          ),
          (elements, lie) => {
            const claimed = BigInt(elements) + lie;
            if (claimed < 0n || claimed >= 2n ** 64n) return true;
            const storage: StorageSpec = {
              key: '0',
              dtype: 'F32',
              data: new Uint8Array(elements * 4),
              claimedCount: claimed,
            };
            const tensors = [{ name: 'w', key: '0', size: [elements], stride: [1], offset: 0 }];
            const bytes = legacyCheckpoint(tensors, [storage]);
            const got = decodedOrNamedError(decode(bytes), 4 * bytes.length);
            return claimed === BigInt(elements) ? got?.get('w')?.data.length === elements : got === undefined;
          },
        ),
      },
      {
        name: 'random pickle opcode streams as the state dict',
        property: fc.property(pickleStream, (pickle) => {
          const bytes = legacyCheckpoint([], [], pickle);
          decodedOrNamedError(decode(bytes), 4 * bytes.length);
        }),
      },
    ],
    { runs: 1000 },
  );
}
