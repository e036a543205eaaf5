/**
 * Both `torch.save` layouts against files PyTorch wrote (tools/torch-reference/legacy_checkpoints.py,
 * Debian's torch 1.13), value by value against the same tensors as safetensors; and hostile files
 * written byte by byte (testing/torch-file-writer.ts) → a `WeightFileError` naming the file.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { wideResnet50Definition } from '../architectures/resnet';
import { vgg19BnDefinition } from '../architectures/vgg';
import { WeightFileError } from './errors';
import { decodeSafetensors } from './safetensors';
import { decodeTorchCheckpoint } from './torch-checkpoint';
import { checkWeights, isCompleteReport } from './validate-weights';
import {
  f32,
  legacyCheckpoint,
  stateDictPickle,
  type StorageSpec,
  type TensorSpec,
  zipCheckpoint,
} from './testing/torch-file-writer';

const fixture = (name: string) => readFileSync(new URL(`../__fixtures__/torch-backbones/${name}`, import.meta.url));
const legacy = (name: string) => readFileSync(new URL(`../__fixtures__/legacy-torch/${name}`, import.meta.url));
const manifest = JSON.parse(legacy('manifest.json').toString()) as { widthDivisor: number };

/** What decoding throws, checked to be a WeightFileError naming the file. */
function failure(bytes: Uint8Array, file = 'hostile.pth'): string {
  try {
    decodeTorchCheckpoint(bytes, file);
  } catch (error) {
    expect(error).toBeInstanceOf(WeightFileError);
    expect((error as WeightFileError).file).toBe(file);
    return (error as Error).message;
  }
  throw new Error('decoded without an error');
}

function expectSameTensors(got: Map<string, { shape: number[]; data: Float32Array }>, expectedFile: string): void {
  const expected = decodeSafetensors(legacy(expectedFile), expectedFile).tensors;
  expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [name, t] of expected) {
    expect(got.get(name)!.shape, name).toEqual(t.shape);
    expect(Array.from(got.get(name)!.data), name).toEqual(Array.from(t.data));
  }
}

const storage = (key: string, values: number[]): StorageSpec => ({ key, dtype: 'F32', data: f32(values) });
const tensor = (name: string, key: string, size: number[], stride: number[], offset = 0): TensorSpec => ({
  name,
  key,
  size,
  stride,
  offset,
});

describe('decodeTorchCheckpoint: the zip format (torch ≥ 1.6)', () => {
  it('reads a torch.save state dict (zip + pickle, float16 storages) in key order', () => {
    const tensors = decodeTorchCheckpoint(fixture('resnet18.pth'), 'resnet18.pth');
    expect([...tensors.keys()].slice(0, 3)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias']);
    expect(tensors.get('conv1.weight')!.shape).toEqual([16, 3, 7, 7]);
    expect(tensors.get('bn1.num_batches_tracked')!.shape).toEqual([]);
  });

  it('reads every storage dtype, a transposed tensor, a slice with a storage offset, empty and 0-d tensors', () => {
    expectSameTensors(decodeTorchCheckpoint(legacy('mixed.zip.pth'), 'mixed.zip.pth'), 'mixed.expected.safetensors');
  });

  it('refuses a pickle that would call a function, naming the global, and runs nothing', () => {
    expect(() => decodeTorchCheckpoint(fixture('refused-code.pth'), 'refused-code.pth')).toThrow(
      /refused-code\.pth: unsupported pickle content \(global (posix|os)\.system\); only plain state dicts of tensors can be read/,
    );
  });

  it('refuses a truncated file and a damaged storage (CRC-32)', () => {
    const bytes = fixture('resnet18.pth');
    expect(failure(bytes.subarray(0, bytes.length - 100), 'cut.pth')).toMatch(/^cut\.pth: /);
    const damaged = Uint8Array.from(bytes);
    damaged[4000] ^= 0x10; // inside a storage: only the checksum can tell
    expect(failure(damaged, 'flip.pth')).toMatch(/flip\.pth: zip entry .* fails its CRC-32 check/);
  });

  it('reads deflated entries, and refuses a zip bomb before inflating it', () => {
    const values = Array.from({ length: 64 }, (_, i) => i / 7);
    const specs = [tensor('w', '0', [8, 8], [8, 1])];
    const deflated = decodeTorchCheckpoint(zipCheckpoint(specs, [storage('0', values)], { method: 8 }), 'z.pth');
    expect(Array.from(deflated.get('w')!.data)).toEqual(Array.from(Float32Array.from(values)));
    // 1 GiB of zeros claimed by a few kB of deflate: refused by the declared size, nothing inflated
    const bomb = zipCheckpoint(
      [tensor('w', '0', [1], [1])],
      [{ key: '0', dtype: 'F32', data: new Uint8Array(1 << 20) }],
      {
        method: 8,
        declaredSize: 2 ** 30,
      },
    );
    expect(failure(bomb, 'bomb.pth')).toMatch(
      /bomb\.pth: zip entry archive\/data\/0 would inflate to 1073741824 bytes, past the \d+ bytes allowed/,
    );
    // a header that under-declares the inflated size is cut off at what it declares
    const liar = zipCheckpoint(
      [tensor('w', '0', [1], [1])],
      [{ key: '0', dtype: 'F32', data: new Uint8Array(1 << 20) }],
      {
        method: 8,
        declaredSize: 4,
      },
    );
    expect(failure(liar, 'liar.pth')).toMatch(/liar\.pth: zip entry archive\/data\/0 does not inflate/);
  });
});

describe('decodeTorchCheckpoint: the legacy format (torch < 1.6, _use_new_zipfile_serialization=False)', () => {
  it.each([
    ['wide_resnet50_2', wideResnet50Definition],
    ['vgg19_bn', vgg19BnDefinition],
  ] as const)(
    "reads %s as PyTorch wrote it: every key, shape and value, and the backbone's parameters all match",
    (name, definition) => {
      const tensors = decodeTorchCheckpoint(legacy(`${name}.legacy.pth`), `${name}.legacy.pth`);
      expectSameTensors(tensors, `${name}.expected.safetensors`);
      const report = checkWeights(definition({ widthDivisor: manifest.widthDivisor }), tensors);
      expect(isCompleteReport(report), JSON.stringify(report)).toBe(true);
      expect(report.unused.length, 'the classifier head is read and left unused').toBeGreaterThan(0);
    },
  );

  it('keeps the state dict key order', () => {
    const tensors = decodeTorchCheckpoint(legacy('wide_resnet50_2.legacy.pth'), 'w.pth');
    expect([...tensors.keys()].slice(0, 4)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean']);
  });

  it('reads every storage dtype, a transposed tensor, a slice sharing a storage, empty and 0-d tensors, a Parameter', () => {
    expectSameTensors(
      decodeTorchCheckpoint(legacy('mixed.legacy.pth'), 'mixed.legacy.pth'),
      'mixed.expected.safetensors',
    );
    // the file written by the older fixture script reads too
    expect(Array.from(decodeTorchCheckpoint(fixture('refused-legacy.pth'), 'l.pth').get('w')!.data)).toEqual([0, 0]);
  });

  it('refuses a legacy pickle that would call os.system, naming the global', () => {
    expect(failure(legacy('code.legacy.pth'), 'code.pth')).toMatch(
      /^code\.pth: unsupported pickle content \(global (posix|os)\.system\)/,
    );
  });

  it('refuses foreign globals in the state dict and in the tensor rebuilder', () => {
    const body = stateDictPickle([tensor('w', '0', [1], [1])], { legacyPid: true, rebuildWith: ['builtins', 'eval'] });
    expect(failure(legacyCheckpoint([], [storage('0', [1])], body))).toMatch(/global builtins\.eval/);
  });

  it('refuses truncation anywhere: in a pickle, in the key list, in a storage', () => {
    const bytes = legacy('mixed.legacy.pth');
    for (const cut of [3, 40, 200, 1500, bytes.length - 1])
      expect(failure(bytes.subarray(0, cut), 'cut.pth'), `cut at ${cut}`).toMatch(/^cut\.pth: /);
    expect(failure(bytes.subarray(0, bytes.length - 1), 'cut.pth')).toMatch(
      /storage \S+ claims \d+ \S+ elements \(\d+ bytes\), more than the \d+ bytes left in the file/,
    );
  });

  it('refuses storage sizes larger than the file and huge element counts without allocating them', () => {
    const specs = [tensor('w', '0', [2], [1])];
    expect(failure(legacyCheckpoint(specs, [{ ...storage('0', [1, 2]), claimedCount: 2n ** 40n }]))).toMatch(
      /storage 0 claims 1099511627776 F32 elements \(4398046511104 bytes\), more than the 8 bytes left/,
    );
    expect(failure(legacyCheckpoint(specs, [{ ...storage('0', [1, 2]), claimedCount: 2n ** 63n }]))).toMatch(
      /element count of storage 0 is 9223372036854775808, more than any file holds/,
    );
    // the pickle claims a bigger storage than the bytes that follow it
    expect(failure(legacyCheckpoint([{ ...specs[0], numel: 1000 }], [storage('0', [1, 2])]))).toMatch(
      /storage 0 of 'w' holds 2 F32 elements, the pickle needs 1000/,
    );
  });

  it('refuses sizes, strides and offsets that reach outside the storage, and broadcasts beyond the bound', () => {
    const one = [storage('0', [1, 2, 3, 4])];
    const cases: [TensorSpec, RegExp][] = [
      [
        tensor('w', '0', [5], [1]),
        /tensor 'w': size \[5\], stride \[1\] and offset 0 reach element 4 of a storage of 4/,
      ],
      [tensor('w', '0', [2, 2], [3, 1]), /reach element 4 of a storage of 4/],
      [tensor('w', '0', [2], [1], 3), /offset 3 reach element 4/],
      [tensor('w', '0', [2], [1, 1]), /its stride does not match its 1 dimensions/],
      [tensor('w', '0', [2 ** 40, 2 ** 40], [0, 0]), /size \[1099511627776, 1099511627776\] is beyond any real tensor/],
      // stride 0 keeps inside the storage, but would decode 2^30 values from 16 bytes
      [tensor('w', '0', [2 ** 15, 2 ** 15], [0, 0]), /claim 1073741824 values from 16 stored bytes/],
    ];
    for (const [spec, message] of cases) {
      expect(failure(legacyCheckpoint([spec], one)), spec.size.join('×')).toMatch(message);
      expect(failure(zipCheckpoint([spec], one)), `zip ${spec.size.join('×')}`).toMatch(message);
    }
  });

  it('says what it found for a file that is no checkpoint at all', () => {
    expect(failure(new TextEncoder().encode('hello, not weights'), 'x.pth')).toMatch(
      /x\.pth: not a torch checkpoint: neither the zip format of torch ≥ 1\.6 nor the legacy format/,
    );
  });
});
