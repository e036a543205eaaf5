/**
 * Every backbone and the patch descriptor against the CFA reference code's own modules
 * (tools/torch-reference/official_fixtures.py imports `cnn/resnet.py`, `cnn/vgg.py`,
 * `cnn/efficientnet.py` and `utils/cfa.py` `Descriptor` from the official snapshot): seeded
 * full-width weights in the reference naming, taps 'reference' (leaky-ReLU ResNet maps, static
 * "same" EfficientNet padding), then φ of its Descriptor (avg-pool, upsample, concat, EfficientNet
 * maps divided by their channel count and 2·D/γd outputs, CoordConv). Both engines, 1e-4 relative.
 * The inputs are regenerated from the settings the fixture carries and checked by digest; run
 * `nx run tools:official-fixtures` (needs CFA_OFFICIAL_DIR) to rebuild the fixtures.
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
import { coordConvWeightFromTorch, type CoordConvParams } from './coord-conv';
import { createDescriptorRunner } from './descriptor-runner';
import { parityInputs, parityInputsDigest } from './testing';
import { createPatchEmbedder } from './patch-embedding-runner';

const BACKBONES = ['resnet18', 'wide_resnet50_2', 'vgg19_bn', 'efficientnet_b5'];

function fixture(name: string) {
  const path = new URL(`./__fixtures__/official/${name}.official.safetensors`, import.meta.url);
  const { tensors, metadata } = decodeSafetensors(readFileSync(path), path.pathname);
  const settings = JSON.parse(metadata.settings) as {
    seed: number;
    inputSize: number;
    images: number;
    gammaD: number;
  };
  const inputs = parityInputs({ backbone: name, ...settings });
  const expected = (key: string): Float32Array => {
    const t = tensors.get(key);
    if (!t) throw new Error(`${name} fixture has no ${key}`);
    return t.data;
  };
  return { metadata, settings, inputs, expected };
}

function descriptorParams(inputs: StateDict): CoordConvParams {
  const w = inputs.get('descriptor.weight')!;
  const [out, inTotal] = w.shape;
  return {
    inChannels: inTotal - 2,
    coordChannels: 2,
    outChannels: out,
    weight: coordConvWeightFromTorch(w.data, inTotal, out),
    bias: Float32Array.from(inputs.get('descriptor.bias')!.data),
  };
}

describe.each(BACKBONES)('%s against the CFA reference code', (name) => {
  const { metadata, settings, inputs, expected } = fixture(name);
  const def = backboneDefinition(name, 'reference');
  const weights: StateDict = new Map(
    [...inputs].filter(([k]) => k.startsWith('backbone.')).map(([k, v]) => [k.slice('backbone.'.length), v]),
  );
  const model = buildBackboneModel(def, weights, { kind: 'random', seed: settings.seed, id: 'official-parity' });
  const images = inputs.get('images')!.data;
  const { images: n, inputSize: size } = settings;

  it('regenerates exactly the inputs the fixture was computed from', () => {
    expect(parityInputsDigest(inputs)).toBe(metadata.inputsSha256);
  });

  it.each(['ort', 'tfjs'] as const)('features and φ match on %s within 1e-4 relative', async (engineName) => {
    const engine = await selectEngine({ requested: engineName, tfBackend: 'wasm', threads: 2 });
    const runner = await createBackboneRunner({ engine, model, inputSize: size });
    const maps = (await runner.forward(images, n)).map((m) => m.data);
    await runner.release();
    expect(maps.length).toBe(3);
    maps.forEach((m, i) => {
      const ref = expected(`features.${i}`);
      expect(m.length, `features.${i} size`).toBe(ref.length);
      expect(maxRelativeError(m, ref), `features.${i}`).toBeLessThan(1e-4);
    });

    const embedder = await createPatchEmbedder({ engine, backbone: model, inputSize: size });
    const embedding = await embedder.embed(images, n);
    const params = descriptorParams(inputs);
    expect(params.inChannels).toBe(embedder.channels);
    const descriptor = await createDescriptorRunner({ engine, height: embedder.height, width: embedder.width, params });
    const phi = await descriptor.forward(embedding, n, params);
    await descriptor.release();
    await embedder.release();
    const ref = expected('phi');
    expect(phi.length, 'φ size').toBe(ref.length);
    expect(maxRelativeError(phi, ref), 'φ').toBeLessThan(1e-4);
  });
});
