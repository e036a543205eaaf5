import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inferFeatureShapes, summarizeDefinition } from './param-spec';
import { resnet18Definition, wideResnet50Definition } from './resnet';

// Exported from torchvision 0.14 by tools/torch-reference/export_fixtures.py (state_dict keys and shapes).
const torchvision = JSON.parse(readFileSync(new URL('../__fixtures__/torchvision-state-dict-keys.json', import.meta.url), 'utf8')) as Record<string, [string, number[]][]>;

describe.each([
  ['resnet18', resnet18Definition, [64, 128, 256], 448],
  ['wide_resnet50_2', wideResnet50Definition, [256, 512, 1024], 1792],
] as const)('%s definition', (name, define, channels, sum) => {
  it(`derives feature maps ${channels.join('/')} at strides 4/8/16 (D = ${sum}) for a 224 input`, () => {
    const shapes = inferFeatureShapes(define(), 224);
    expect(shapes.map((s) => s.channels)).toEqual(channels);
    expect(shapes.map((s) => [s.height, s.width, s.stride])).toEqual([[56, 56, 4], [28, 28, 8], [14, 14, 16]]);
    expect(shapes.reduce((a, s) => a + s.channels, 0)).toBe(sum);
  });

  it("asks for exactly torchvision's parameter names and shapes up to layer3", () => {
    const ours = summarizeDefinition(define(), 64).params.map((p) => [p.name, p.shape]);
    const theirs = torchvision[name].filter(([k]) => !k.startsWith('layer4.') && !k.startsWith('fc.'));
    expect(ours).toEqual(theirs);
  });
});

describe('widthDivisor', () => {
  it('divides every channel count and keeps the names', () => {
    const narrow = summarizeDefinition(resnet18Definition({ widthDivisor: 4 }), 64);
    const full = summarizeDefinition(resnet18Definition(), 64);
    expect(narrow.params.map((p) => p.name)).toEqual(full.params.map((p) => p.name));
    expect(narrow.features.map((f) => f.channels)).toEqual([16, 32, 64]);
    expect(inferFeatureShapes(wideResnet50Definition({ widthDivisor: 8 }), 64).map((f) => f.channels)).toEqual([32, 64, 128]);
  });
});
