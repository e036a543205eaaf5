/**
 * Numerical parity with the CFA reference code's own modules (tools/torch-reference/
 * official_fixtures.py imports `cnn/resnet.py` and `utils/cfa.py` `DSVDD` from the official
 * snapshot): its resnet18 (reference taps) on two 64×64 images → φ of its Descriptor, the memory
 * bank of `DSVDD._init_centroid`, the K+J nearest distances, `DSVDD`'s loss and its gradients
 * (descriptor weight, bias and r) at two radii, the score of `DSVDD.forward` and the maps of
 * `utils/metric.py` `upsample` + `gaussian_smooth`, and three steps of the trainer's
 * AdamW(amsgrad) on DSVDD's parameters — each within 1e-4 relative, on both engines. Inputs are
 * regenerated from the fixture's settings (digest-checked); `nx run tools:official-fixtures`
 * rebuilds the fixture (needs CFA_OFFICIAL_DIR).
 */
import { readFileSync } from 'node:fs';
import { selectEngine, type EngineSelection } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { backboneDefinition, buildBackboneModel, decodeSafetensors, type StateDict } from '@cfa/backbone';
import {
  coordConvWeightFromTorch,
  coordConvWeightToTorch,
  createDescriptorRunner,
  createPatchEmbedder,
  type CoordConvParams,
} from '@cfa/descriptor';
import { parityInputs, parityInputsDigest } from '@cfa/descriptor/testing';
import { createMemoryBank, createNearestSearch, RunningMean } from '@cfa/memory-bank';
import { anomalyMaps, cfaLossAndGradient, imageScores, LossConfigSchema, patchAnomalyScores } from '@cfa/scoring';
import { describe, expect, it } from 'vitest';
import { createTrainer } from './trainer';

const path = new URL('./__fixtures__/official-parity/outputs.safetensors', import.meta.url);
const fixture = decodeSafetensors(readFileSync(path), path.pathname);
const outputs = fixture.tensors;
const settings = JSON.parse(fixture.metadata.settings) as {
  backbone: string;
  seed: number;
  inputSize: number;
  images: number;
  gammaD: number;
  K: number;
  J: number;
  alpha: number;
  nu: number;
  scoreK: number;
  sigma: number;
  lr: number;
  weightDecay: number;
  steps: number;
};
const ref = (name: string): Float32Array => {
  const t = outputs.get(name);
  if (!t) throw new Error(`fixture has no ${name}`);
  return t.data;
};
const inputs = parityInputs(settings);
const input = (name: string): Float32Array => inputs.get(name)!.data;

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tolerance = 1e-4): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  expect(maxRelativeError(actual, expected), `${what}: max |Δ| over max |ref|`).toBeLessThan(tolerance);
}

const weights: StateDict = new Map(
  [...inputs].filter(([k]) => k.startsWith('backbone.')).map(([k, v]) => [k.slice('backbone.'.length), v]),
);
const backbone = buildBackboneModel(backboneDefinition(settings.backbone, 'reference'), weights, {
  kind: 'random',
  seed: settings.seed,
  id: 'official-parity',
});
const images = input('images');
const n = settings.images,
  size = settings.inputSize;
const lossConfig = LossConfigSchema.parse({
  K: settings.K,
  J: settings.J,
  alpha: settings.alpha,
  nu: settings.nu,
  negatives: 'reference',
});

function descriptorParams(): CoordConvParams {
  const torchWeight = inputs.get('descriptor.weight')!;
  const [out, inTotal] = torchWeight.shape;
  return {
    inChannels: inTotal - 2,
    coordChannels: 2,
    outChannels: out,
    weight: coordConvWeightFromTorch(torchWeight.data, inTotal, out),
    bias: Float32Array.from(input('descriptor.bias')),
  };
}

it('regenerates exactly the inputs the fixture was computed from', () => {
  expect(parityInputsDigest(inputs)).toBe(fixture.metadata.inputsSha256);
});

describe.each(['ort', 'tfjs'] as const)('the CFA reference code on %s (resnet18, 2×64×64)', (engineName) => {
  const engine = async (): Promise<EngineSelection> =>
    selectEngine({ requested: engineName, tfBackend: 'wasm', threads: 2 });

  it('φ, memory bank, nearest K+J distances and indices, loss + gradients, scores, maps, AdamW steps', async () => {
    const e = await engine();
    const embedder = await createPatchEmbedder({ engine: e, backbone, inputSize: size });
    const embedding = await embedder.embed(images, n);
    // the training step takes each image's pyramid (the maps before upsampling)
    const pyramids = await embedder.embedPyramids(images, n);
    await embedder.release();
    const { height: h, width: w, levels } = embedder;
    const hw = h * w;

    const params = descriptorParams();
    const descriptor = await createDescriptorRunner({ engine: e, height: h, width: w, params });
    const phi = await descriptor.forward(embedding, n, params);
    expectClose(phi, ref('phi'), 'phi');

    // DSVDD._init_centroid over one batch: C = the mean of φ over its images
    const mean = new RunningMean(hw * params.outChannels);
    mean.add(phi, n);
    const bank = createMemoryBank(mean.value(), hw, params.outChannels);
    expectClose(bank.centres, ref('bank'), 'bank');

    const search = await createNearestSearch({ engine: e, dim: params.outChannels });
    const k = settings.K + settings.J;
    const nearest = await search.nearest(phi, n * hw, bank, k);
    expectClose(nearest.distances, ref('nearest.distances'), 'nearest distances');
    const refIdx = ref('nearest.indices');
    expect(nearest.indices.length).toBe(n * hw * k);
    // the fixture was kept only if every K and K+J boundary has a relative gap ≥ 1e-4, so the
    // neighbour sets must agree exactly (the order inside a set may differ on near-ties)
    for (let t = 0; t < n * hw; t++) {
      for (const [from, to] of [
        [0, settings.K],
        [settings.K, k],
      ]) {
        const ours = Array.from(nearest.indices.subarray(t * k + from, t * k + to)).sort((a, b) => a - b);
        const theirs = Array.from(refIdx.subarray(t * k + from, t * k + to)).sort((a, b) => a - b);
        expect(ours, `neighbours ${from}..${to} of patch ${t}`).toEqual(theirs);
      }
    }

    const radii = ref('r_values');
    expect(radii.length).toBe(2);
    radii.forEach((r, i) => {
      const lg = cfaLossAndGradient({ phi, count: n * hw, bank, indices: nearest.indices, k, r, config: lossConfig });
      expectClose([lg.loss], ref(`loss.${i}`), `loss at r=${r}`);
      if (i === 1) expect(lg.lossAtt > 0 && lg.lossRep > 0, 'both terms active at the second radius').toBe(true);
      // ∂W = Σ_t x̃_tᵀ ∂φ_t, computed here with loops so that only the loss gradient is under test
      const din = params.inChannels + 2;
      const gw = new Float64Array(din * params.outChannels);
      const gb = new Float64Array(params.outChannels);
      for (let t = 0; t < n * hw; t++) {
        const row = t % hw,
          y = Math.floor(row / w),
          x = row % w;
        const coords = [(2 * y) / (h - 1) - 1, (2 * x) / (w - 1) - 1];
        for (let o = 0; o < params.outChannels; o++) {
          const g = lg.gradPhi[t * params.outChannels + o];
          if (g === 0) continue;
          gb[o] += g;
          for (let c = 0; c < params.inChannels; c++)
            gw[c * params.outChannels + o] += embedding[t * params.inChannels + c] * g;
          gw[params.inChannels * params.outChannels + o] += coords[0] * g;
          gw[(params.inChannels + 1) * params.outChannels + o] += coords[1] * g;
        }
      }
      const asTorch = coordConvWeightToTorch({ ...params, weight: Float32Array.from(gw) });
      expectClose(asTorch, ref(`grad.${i}.weight`), `∂W at r=${r}`);
      expectClose(gb, ref(`grad.${i}.bias`), `∂b at r=${r}`);
      expectClose([lg.gradR], ref(`grad.${i}.r`), `∂r at r=${r}`, i === 0 ? 1e-3 : 1e-4);
    });

    const scoreK = settings.scoreK;
    const near = await search.nearest(phi, n * hw, bank, scoreK);
    const patch = patchAnomalyScores({
      distances: near.distances,
      count: n * hw,
      k: scoreK,
      K: scoreK,
      metric: 'euclidean',
    });
    // Patch scores are √d₁ weighted by a softmin, with d₁ from ‖φ‖² + ‖c‖² − 2φ·c in float32 on both
    // sides; that cancellation alone puts the reference's own float32 scores 9.8e-5 (relative to
    // the largest) from the exact ones on this fixture, and ours 1.1e-4 (ONNX Runtime) and 1.5e-4
    // (TensorFlow.js) — so this intermediate is held to 2e-4; the maps and image scores built from
    // it (upsampled and smoothed) to 1e-4.
    expectClose(patch, ref('score.patch'), 'patch scores', 2e-4);
    const maps = anomalyMaps({ scores: patch, count: n, height: h, width: w, outputSize: size, sigma: settings.sigma });
    expectClose(maps, ref('score.maps'), 'anomaly maps');
    expectClose(imageScores({ maps, count: n, size }), ref('score.image'), 'image scores');

    const trainParams = descriptorParams();
    const trainer = await createTrainer({
      engine: e,
      params: trainParams,
      bank,
      levels,
      loss: lossConfig,
      optimizer: {
        lr: settings.lr,
        weightDecay: settings.weightDecay,
        amsgrad: true,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
      },
      r0: radii[radii.length - 1],
      learnRadius: true,
    });
    const losses: number[] = [];
    for (let s = 0; s < settings.steps; s++) losses.push((await trainer.step(pyramids)).loss);
    expectClose(losses, ref('train.losses'), 'loss per AdamW step');
    expectClose(coordConvWeightToTorch(trainParams), ref('train.weight'), 'W after AdamW steps');
    expectClose(trainParams.bias, ref('train.bias'), 'b after AdamW steps');
    expectClose([trainer.radius], ref('train.r'), 'r after AdamW steps');
    await trainer.release();
    await descriptor.release();
    await search.release();
  });
});
