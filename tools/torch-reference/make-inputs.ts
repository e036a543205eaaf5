/**
 * Writes the inputs of the PyTorch parity fixture: a narrow ResNet-18 (torchvision names, width/4,
 * random BatchNorm statistics so fusion is exercised), two 64×64 images, descriptor parameters in
 * PyTorch layout, two radii (one inactive, one that activates both loss terms) and the settings.
 * `cfa_reference.py` reads this file and writes what PyTorch computes from it.
 *
 *   npx tsx tools/torch-reference/make-inputs.ts <out.safetensors>
 */
import { createRng } from '@cfa/tensor-runtime';
import { encodeSafetensors, randomInitWeights, resnet18Definition, type StateDict } from '@cfa/backbone';
import { coordConvWeightToTorch, createCoordConvParams } from '@cfa/descriptor';
import { writeFile } from 'node:fs/promises';

export const PARITY_SETTINGS = {
  backbone: 'resnet18',
  widthDivisor: 4,
  inputSize: 64,
  images: 2,
  gammaD: 2,
  seed: Number(process.env.PARITY_SEED ?? 7),
  K: 3,
  J: 3,
  alpha: 0.1,
  nu: 1e-3,
  scoreK: 3,
  sigma: 4,
  lr: 1e-3,
  weightDecay: 5e-4,
  steps: 3,
  /** r = 1e-5 (paper) leaves repulsion inactive; r = 1.5 activates both terms on these features. */
  radii: [1e-5, 1.5],
};

export function parityInputs(): StateDict {
  const s = PARITY_SETTINGS;
  const rng = createRng(s.seed);
  const def = resnet18Definition({ widthDivisor: s.widthDivisor });
  const tensors: StateDict = new Map();
  for (const [name, w] of randomInitWeights(def, s.seed)) {
    const data = Float32Array.from(w.data);
    if (name.endsWith('running_var')) data.forEach((_, i) => (data[i] = 0.5 + rng.next()));
    if (name.endsWith('running_mean')) data.forEach((_, i) => (data[i] = 0.1 * rng.normal()));
    if (name.includes('bn') && name.endsWith('.weight')) data.forEach((_, i) => (data[i] = 1 + 0.1 * rng.normal()));
    if (name.includes('bn') && name.endsWith('.bias')) data.forEach((_, i) => (data[i] = 0.1 * rng.normal()));
    tensors.set(`backbone.${name}`, { shape: w.shape, data });
  }
  const n = s.images * s.inputSize * s.inputSize * 3;
  tensors.set('images', {
    shape: [s.images, s.inputSize, s.inputSize, 3],
    data: Float32Array.from({ length: n }, () => rng.normal()),
  });
  const channels = (64 + 128 + 256) / s.widthDivisor;
  const params = createCoordConvParams({ inChannels: channels, gammaD: s.gammaD, seed: s.seed, init: 'torch-default' });
  tensors.set('descriptor.weight', {
    shape: [params.outChannels, channels + 2, 1, 1],
    data: coordConvWeightToTorch(params),
  });
  tensors.set('descriptor.bias', { shape: [params.outChannels], data: params.bias });
  tensors.set('r_values', { shape: [s.radii.length], data: Float32Array.from(s.radii) });
  return tensors;
}

if (process.argv[1]?.endsWith('make-inputs.ts')) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: make-inputs.ts <out.safetensors>');
  await writeFile(out, encodeSafetensors(parityInputs(), { metadata: { config: JSON.stringify(PARITY_SETTINGS) } }));
  console.log(`wrote ${out}`);
}
