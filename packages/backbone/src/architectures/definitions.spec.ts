import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { backboneDefinition } from '../registry';
import { efficientNetB5Definition, makeDivisible } from './efficientnet';
import { inferFeatureShapes, summarizeDefinition } from './param-spec';
import { resnet18Definition, wideResnet50Definition } from './resnet';
import { vgg19BnDefinition } from './vgg';

// Exported by tools/torch-reference/export_state_dict_keys.py (keys and shapes): torchvision 0.14's
// modules, and the CFA reference code's own (its EfficientNet is EfficientNet-PyTorch).
const stateDictKeys = (file: string) =>
  JSON.parse(readFileSync(new URL(`../__fixtures__/${file}`, import.meta.url), 'utf8')) as Record<
    string,
    [string, number[]][]
  >;
const torchvision = stateDictKeys('torchvision-state-dict-keys.json');
const reference = stateDictKeys('reference-state-dict-keys.json');

describe.each([
  ['resnet18', [64, 128, 256], 448, [4, 8, 16]],
  ['wide_resnet50_2', [256, 512, 1024], 1792, [4, 8, 16]],
  ['vgg19', [256, 512, 512], 1280, [4, 8, 32]],
  ['vgg19_bn', [256, 512, 512], 1280, [4, 8, 32]],
  ['efficientnet_b5', [200, 192, 176], 568, [4, 8, 16]],
  // UniAD's / CRAD's out-layers 3 and 4
  ['efficientnet_b4', [56, 160], 216, [8, 16]],
] as const)('%s definition', (name, channels, sum, strides) => {
  const def = backboneDefinition(name);
  const tv = backboneDefinition(name, 'torchvision');

  const largest = 224 / strides[0];
  it(`derives maps of ${channels.join('/')} channels (D = ${sum}) with the largest at ${largest}² for a 224 input`, () => {
    const shapes = inferFeatureShapes(def, 224);
    expect(shapes.map((s) => s.channels)).toEqual(channels);
    expect(shapes.map((s) => s.stride)).toEqual(strides);
    expect([shapes[0].height, shapes[0].width]).toEqual([largest, largest]);
    expect(shapes.reduce((a, s) => a + s.channels, 0)).toBe(sum);
  });

  it('the taps change no feature shape', () => {
    expect(inferFeatureShapes(tv, 224)).toEqual(
      inferFeatureShapes(def, 224).map((f, i) => ({ ...f, name: tv.featureNames[i] })),
    );
  });

  it("taps 'torchvision' asks for exactly torchvision's parameter names and shapes of the tapped part", () => {
    const ours = summarizeDefinition(tv, 64).params.map((p) => [p.name, p.shape]);
    const theirs = torchvision[name].filter(([k]) => !tv.unusedPrefixes.some((prefix) => k.startsWith(prefix)));
    expect(ours).toEqual(theirs);
  });

  it.skipIf(!(name in reference))(
    "taps 'reference' asks for exactly the reference code's parameter names and shapes of the tapped part",
    () => {
      const ours = summarizeDefinition(def, 64).params.map((p) => [p.name, p.shape]);
      const theirs = reference[name].filter(([k]) => !def.unusedPrefixes.some((prefix) => k.startsWith(prefix)));
      expect(ours).toEqual(theirs);
    },
  );
});

describe('narrow copies (fixtures only)', () => {
  it('widthDivisor divides every channel count and keeps the names', () => {
    const narrow = summarizeDefinition(resnet18Definition({ widthDivisor: 4 }), 64);
    expect(narrow.params.map((p) => p.name)).toEqual(
      summarizeDefinition(resnet18Definition(), 64).params.map((p) => p.name),
    );
    expect(narrow.features.map((f) => f.channels)).toEqual([16, 32, 64]);
    expect(inferFeatureShapes(wideResnet50Definition({ widthDivisor: 8 }), 64).map((f) => f.channels)).toEqual([
      32, 64, 128,
    ]);
    expect(inferFeatureShapes(vgg19BnDefinition({ widthDivisor: 16 }), 32).map((f) => f.channels)).toEqual([
      16, 32, 32,
    ]);
  });

  it('efficientnet_b4: BatchNorm ε as each variant builds it (EfficientNet-PyTorch 1e-3, torchvision 1e-5)', () => {
    expect(backboneDefinition('efficientnet_b4').bnEps).toBe(1e-3);
    expect(backboneDefinition('efficientnet_b4', 'torchvision').bnEps).toBe(1e-5);
    expect(backboneDefinition('efficientnet_b5', 'torchvision').bnEps).toBe(1e-3);
  });

  it("efficientnet: torchvision's _make_divisible and a width multiplier", () => {
    expect([makeDivisible(51.2), makeDivisible(38.4), makeDivisible(9.6), makeDivisible(179.2)]).toEqual([
      48, 40, 16, 176,
    ]);
    expect(inferFeatureShapes(efficientNetB5Definition({ widthMult: 0.4 }), 32).map((f) => f.channels)).toEqual([
      80, 48, 48,
    ]);
  });
});

describe('backboneDefinition', () => {
  it('names the backbones that exist when asked for another', () => {
    expect(() => backboneDefinition('alexnet')).toThrow(
      /unknown backbone 'alexnet': expected one of resnet18, wide_resnet50_2, vgg19, vgg19_bn, efficientnet_b5/,
    );
  });
});
