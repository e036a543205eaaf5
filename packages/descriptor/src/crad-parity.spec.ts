/**
 * EfficientNet-B4 and the MFCN neck against the CRAD reference code's own modules
 * (tools/torch-reference/crad_fixtures.py imports `models/backbones/efficientnet/` — UniAD's copy
 * of EfficientNet-PyTorch — with out-layers [3, 4] as its `experiments/config.yaml` asks, and
 * `models/necks/mfcn.py`): seeded full-width weights in the reference naming, a 64-pixel input, on
 * both engines within 1e-4 relative. The inputs are regenerated from the settings the fixture
 * carries and checked by digest; `nx run tools:crad-fixtures` (needs CRAD_OFFICIAL_DIR) rebuilds it.
 */
import { readFileSync } from 'node:fs';
import {
  backboneDefinition,
  buildBackboneModel,
  createBackboneRunner,
  decodeSafetensors,
  type StateDict,
} from '@cfa/backbone';
import { selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { describe, expect, it } from 'vitest';
import { createMfcnEmbedder } from './mfcn-embedder';
import { parityInputs, parityInputsDigest } from './testing';

const path = new URL('./__fixtures__/official/efficientnet_b4.crad.safetensors', import.meta.url);
const { tensors, metadata } = decodeSafetensors(readFileSync(path), path.pathname);
const settings = JSON.parse(metadata.settings) as {
  seed: number;
  inputSize: number;
  images: number;
  gammaD: number;
  outblocks: number[];
};
const inputs = parityInputs({ backbone: 'efficientnet_b4', ...settings });
const expected = (key: string) => tensors.get(key)!.data;

describe('efficientnet_b4 and the MFCN neck against the CRAD reference code', () => {
  const def = backboneDefinition('efficientnet_b4', 'reference');
  const weights: StateDict = new Map(
    [...inputs].filter(([k]) => k.startsWith('backbone.')).map(([k, v]) => [k.slice('backbone.'.length), v]),
  );
  const model = buildBackboneModel(def, weights, { kind: 'random', seed: settings.seed, id: 'crad-parity' });
  const images = inputs.get('images')!.data;
  const { images: n, inputSize: size } = settings;

  it("regenerates exactly the inputs the fixture was computed from, and taps the reference's out-blocks", () => {
    expect(parityInputsDigest(inputs)).toBe(metadata.inputsSha256);
    expect(def.featureNames).toEqual(settings.outblocks.map((b) => `_blocks.${b}`));
  });

  it.each(['ort', 'tfjs'] as const)(
    'out-layer maps and neck features match on %s within 1e-4 relative',
    async (engineName) => {
      const engine = await selectEngine({ requested: engineName, tfBackend: 'wasm', threads: 2 });
      const runner = await createBackboneRunner({ engine, model, inputSize: size });
      const maps = await runner.forward(images, n);
      await runner.release();
      expect(maps.map((m) => m.dims)).toEqual([
        [n, 8, 8, 56],
        [n, 4, 4, 160],
      ]);
      maps.forEach((m, i) =>
        expect(maxRelativeError(m.data, expected(`features.${i}`)), `features.${i}`).toBeLessThan(1e-4),
      );
      const embedder = await createMfcnEmbedder({ engine, backbone: model, inputSize: size });
      expect(embedder.level).toEqual({ height: 8, width: 8, channels: 216 });
      const perImage = await embedder.embed(images, n);
      await embedder.release();
      const joined = new Float32Array(perImage.reduce((a, p) => a + p.length, 0));
      perImage.forEach((p, i) => joined.set(p, i * p.length));
      expect(maxRelativeError(joined, expected('mfcn'))).toBeLessThan(1e-4);
    },
  );
});
