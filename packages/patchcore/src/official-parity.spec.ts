/**
 * PatchCore against its authors' code's own modules (tools/torch-reference/patchcore_fixtures.py
 * imports `patchcore.patchcore`, `common`, `sampler` from the reference snapshot): on seeded
 * random-init torchvision resnet18, the locally aware patch features of the train and test images,
 * the approximate greedy coreset's indices (EXACTLY: the reference ran with the projection and the
 * starting points `fitPatchCore` draws from the seed, injected in place of its own draws), the
 * nearest squared distances, the patch scores with 1 and 3 neighbours, the RescaleSegmentor maps
 * and the image scores; on wide_resnet50_2 the features at the authors' 1024 > 1024. Both engines,
 * 1e-4 relative. The inputs are regenerated from the settings the fixtures carry and checked by
 * digest; `nx run tools:patchcore-fixtures` (needs PATCHCORE_OFFICIAL_DIR) rebuilds the fixtures.
 */
import { readFileSync } from 'node:fs';
import { backboneDefinition, buildBackboneModel, decodeSafetensors, type StateDict } from '@cfa/backbone';
import { createLocalPatchEmbedder } from '@cfa/descriptor';
import { parityInputsDigest } from '@cfa/descriptor/testing';
import { createNearestSearch, exactSquaredDistances } from '@cfa/memory-bank';
import { nearestNeighbourScores } from '@cfa/scoring';
import { selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { memoryEmbeddingSet } from '@cfa/method-kit';
import { describe, expect, it } from 'vitest';
import { PatchCoreConfigSchema } from './config';
import { layerIndices } from './extractor';
import { fitPatchCore } from './fit';
import { type PatchCoreParitySpec, patchCoreParityInputs } from './testing';
import { predictPatchCore } from './predict';

type Settings = PatchCoreParitySpec & { neighbours?: number; sigma?: number };

const loaded = new Map<string, ReturnType<typeof readFixture>>();
/** A fixture with its regenerated inputs and backbone (read once for both engines). */
function fixture(file: string) {
  if (!loaded.has(file)) loaded.set(file, readFixture(file));
  return loaded.get(file)!;
}

function readFixture(file: string) {
  const path = new URL(`./__fixtures__/official/${file}`, import.meta.url);
  const { tensors, metadata } = decodeSafetensors(readFileSync(path), path.pathname);
  const settings = JSON.parse(metadata.settings) as Settings;
  const inputs = patchCoreParityInputs(settings);
  const expected = (key: string): Float32Array => {
    const t = tensors.get(key);
    if (!t) throw new Error(`${file} has no ${key}`);
    return t.data;
  };
  const weights: StateDict = new Map(
    [...inputs].filter(([k]) => k.startsWith('backbone.')).map(([k, v]) => [k.slice('backbone.'.length), v]),
  );
  const backbone = buildBackboneModel(backboneDefinition(settings.backbone, 'torchvision'), weights, {
    kind: 'random',
    seed: settings.seed,
    id: 'patchcore-parity',
  });
  return { metadata, settings, inputs, expected, backbone };
}

/** `actual` within `tolerance` of `expected`, relative to its largest magnitude; the label names it on failure. */
function expectClose(label: string, actual: ArrayLike<number>, expected: Float32Array, tolerance = 1e-4) {
  expect(actual.length, `${label}: size`).toBe(expected.length);
  expect(maxRelativeError(actual, expected), label).toBeLessThan(tolerance);
}

const ENGINES = ['ort', 'tfjs'] as const;
const engineFor = (name: (typeof ENGINES)[number]) => selectEngine({ requested: name, tfBackend: 'wasm', threads: 1 });

describe.each(ENGINES)('PatchCore against its reference code on %s', (engineName) => {
  it('resnet18 (4 + 2 × 64²): features, coreset indices (exact), nearest distances, patch scores (k 1, 3), maps, image scores', async () => {
    const { metadata, settings, inputs, expected, backbone } = fixture('resnet18.pipeline.safetensors');
    expect(parityInputsDigest(inputs)).toBe(metadata.inputsSha256);
    const engine = await engineFor(engineName);
    const embedder = await createLocalPatchEmbedder({
      engine,
      backbone,
      inputSize: settings.inputSize,
      maps: layerIndices(backbone, settings.layers),
      ...settings.embedding,
    });
    const train = await embedder.embed(inputs.get('images.train')!.data, settings.trainImages);
    const test = await embedder.embed(inputs.get('images.test')!.data, settings.testImages);
    await embedder.release();
    const level = [{ height: embedder.height, width: embedder.width, channels: embedder.channels }];
    expectClose('features.train', Float32Array.from(train.flatMap((t) => [...t])), expected('features.train'));
    expectClose('features.test', Float32Array.from(test.flatMap((t) => [...t])), expected('features.test'));

    // the fit draws the projection and starting points the reference was given (from the seed)
    const config = PatchCoreConfigSchema.parse({
      layers: settings.layers,
      embedding: settings.embedding,
      coreset: { fraction: settings.fraction },
      scoring: { neighbours: settings.neighbours, sigma: settings.sigma },
      seed: settings.seed,
    });
    const ids = (n: number, split: string) => Array.from({ length: n }, (_, i) => `${split}-${i}`);
    const model = await fitPatchCore({ config, engine, train: memoryEmbeddingSet(ids(4, 'train'), train, level) });
    expect([...model.coreset.indices!]).toEqual([...expected('coreset.indices')]);

    const testSet = memoryEmbeddingSet(ids(2, 'test'), test, level);
    const prediction = await predictPatchCore({ model, test: testSet, inputSize: settings.inputSize });
    expectClose('patch_scores', prediction.patchScores, expected('patch_scores'));
    expectClose('maps', prediction.maps, expected('maps'));
    expectClose('image_scores', prediction.imageScores, expected('image_scores'));

    // the nearest entries as predict finds them (search, then Σ (q − c)² of the found), with 1 and 3 neighbours
    const search = await createNearestSearch({ engine, dim: model.bank.dim });
    const queries = Float32Array.from(test.flatMap((t) => [...t]));
    const count = queries.length / model.bank.dim;
    const distances = async (k: number) => {
      const { indices } = await search.nearest(queries, count, model.bank, k);
      return exactSquaredDistances({ queries, count, bank: model.bank, indices, k });
    };
    expectClose('nearest.distances', await distances(1), expected('nearest.distances'));
    const k3 = nearestNeighbourScores({ distances: await distances(3), count, k: 3 });
    await search.release();
    expectClose('patch_scores.k3', k3, expected('patch_scores.k3'));
  });

  it('wide_resnet50_2 (1 × 64²): features at 1024 > 1024', async () => {
    const { metadata, settings, inputs, expected, backbone } = fixture('wide_resnet50_2.features.safetensors');
    expect(parityInputsDigest(inputs)).toBe(metadata.inputsSha256);
    const embedder = await createLocalPatchEmbedder({
      engine: await engineFor(engineName),
      backbone,
      inputSize: settings.inputSize,
      maps: layerIndices(backbone, settings.layers),
      ...settings.embedding,
    });
    const [features] = await embedder.embed(inputs.get('images.train')!.data, 1);
    await embedder.release();
    expectClose('features.train', features, expected('features.train'));
  });
});
