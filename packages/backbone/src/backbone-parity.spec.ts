/**
 * Every backbone with taps 'torchvision' against torchvision (tools/torch-reference/
 * backbone_reference.py; the reference taps are checked against the CFA reference code's own
 * modules in packages/descriptor/src/official-parity.spec.ts, EfficientNet-B4's against the CRAD
 * reference code's in packages/descriptor/src/crad-parity.spec.ts): torchvision's own modules, narrowed so the committed fixtures stay small, seeded random weights with non-trivial
 * BatchNorm statistics stored in float16 (vgg19_bn in bfloat16), saved by PyTorch both as
 * `.safetensors` and as a `torch.save` `.pth`. Both files must load, and the tapped features must
 * match on both engines within 1e-4 relative.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { describe, expect, it } from 'vitest';
import { buildBackboneModel, readWeightFile } from './backbone-model';
import { efficientNetB4Definition, efficientNetB5Definition } from './architectures/efficientnet';
import type { BackboneDefinition } from './architectures/net-builder';
import { resnet18Definition, wideResnet50Definition } from './architectures/resnet';
import { vgg19BnDefinition, vgg19Definition } from './architectures/vgg';
import { createBackboneRunner } from './execution/backbone-runner';
import { decodeSafetensors } from './weights/safetensors';
import { checkWeights, isCompleteReport } from './weights/validate-weights';

const dir = new URL('./__fixtures__/torch-backbones/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8')) as Record<
  string,
  { shrink: number; inputSize: number; dtype: string; channels: number[] }
>;

const narrow: Record<string, (shrink: number) => BackboneDefinition> = {
  resnet18: (s) => resnet18Definition({ widthDivisor: s, taps: 'torchvision' }),
  wide_resnet50_2: (s) => wideResnet50Definition({ widthDivisor: s, taps: 'torchvision' }),
  vgg19: (s) => vgg19Definition({ widthDivisor: s, taps: 'torchvision' }),
  vgg19_bn: (s) => vgg19BnDefinition({ widthDivisor: s, taps: 'torchvision' }),
  efficientnet_b5: (s) => efficientNetB5Definition({ widthMult: s, taps: 'torchvision' }),
  efficientnet_b4: (s) => efficientNetB4Definition({ widthMult: s, taps: 'torchvision' }),
};

describe.each(Object.keys(narrow))('%s against PyTorch', (name) => {
  const info = manifest[name];
  const def = narrow[name](info.shrink);
  const expected = decodeSafetensors(readFileSync(new URL(`${name}.expected.safetensors`, dir)), name).tensors;
  const input = expected.get('input')!.data;
  const size = info.inputSize;

  it.each(['safetensors', 'pth'])(
    `loads the %s file (${info.dtype} weights) with every key matching`,
    async (format) => {
      const { tensors } = await readWeightFile(fileURLToPath(new URL(`${name}.${format}`, dir)));
      const report = checkWeights(def, tensors);
      expect(isCompleteReport(report), JSON.stringify(report)).toBe(true);
    },
  );

  it.each(['ort', 'tfjs'] as const)(
    'features match on %s within 1e-4 relative (both files give the same weights)',
    async (engineName) => {
      const engine = await selectEngine({ requested: engineName, tfBackend: 'wasm', threads: 2 });
      const fromSt = await readWeightFile(fileURLToPath(new URL(`${name}.safetensors`, dir)));
      const fromPth = await readWeightFile(fileURLToPath(new URL(`${name}.pth`, dir)));
      // the same keys both ways (not only the safetensors keys among the .pth's), and the same values
      expect([...fromPth.tensors.keys()].sort()).toEqual([...fromSt.tensors.keys()].sort());
      for (const [k, v] of fromSt.tensors) expect(fromPth.tensors.get(k)?.data, k).toEqual(v.data);
      const model = buildBackboneModel(def, fromSt.tensors, { kind: 'random', seed: 0, id: 'fixture' });
      const runner = await createBackboneRunner({ engine, model, inputSize: size });
      const maps = (await runner.forward(input, 1)).map((m) => m.data);
      await runner.release();
      // as many maps as PyTorch tapped (the count from the fixture, never from what we computed)
      const tapped = [...expected.keys()].filter((k) => /^features\.\d+$/.test(k)).length;
      expect(tapped, 'maps in the fixture').toBe(info.channels.length);
      expect(maps).toHaveLength(tapped);
      maps.forEach((m, i) => expect(m.length, `features.${i} size`).toBe(expected.get(`features.${i}`)!.data.length));
      maps.forEach((m, i) =>
        expect(maxRelativeError(m, expected.get(`features.${i}`)!.data), `features.${i}`).toBeLessThan(1e-4),
      );
    },
  );
});
