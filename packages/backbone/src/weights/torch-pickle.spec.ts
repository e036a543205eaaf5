import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeTorchCheckpoint } from './torch-pickle';

const fixture = (name: string) => readFileSync(new URL(`../__fixtures__/torch-backbones/${name}`, import.meta.url));

describe('decodeTorchCheckpoint', () => {
  it('reads a torch.save state dict (zip + pickle, float16 storages) in key order', () => {
    const tensors = decodeTorchCheckpoint(fixture('resnet18.pth'), 'resnet18.pth');
    expect([...tensors.keys()].slice(0, 3)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias']);
    expect(tensors.get('conv1.weight')!.shape).toEqual([16, 3, 7, 7]);
    expect(tensors.get('bn1.num_batches_tracked')!.shape).toEqual([]);
  });

  it('refuses a pickle that would call a function, naming the global, and runs nothing', () => {
    expect(() => decodeTorchCheckpoint(fixture('refused-code.pth'), 'refused-code.pth')).toThrow(
      /refused-code\.pth: unsupported pickle content \(global (posix|os)\.system\); only plain state dicts of tensors can be read/,
    );
  });

  it('refuses the legacy (pre-1.6, non-zip) format with what to do', () => {
    expect(() => decodeTorchCheckpoint(fixture('refused-legacy.pth'), 'legacy.pth')).toThrow(
      /legacy\.pth: not a zip-format torch checkpoint \(this looks like the legacy pre-1\.6 torch format: re-save it with a recent torch\.save\)/,
    );
  });

  it('refuses a truncated file', () => {
    const bytes = fixture('resnet18.pth');
    expect(() => decodeTorchCheckpoint(bytes.subarray(0, bytes.length - 100), 'cut.pth')).toThrow(/cut\.pth: /);
  });
});
