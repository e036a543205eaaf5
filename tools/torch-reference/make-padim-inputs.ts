/**
 * Writes the inputs that `padim_fixtures.py` feeds to the PaDiM reference code's `main()`:
 * `parityInputs` of resnet18 (seeded random weights in torchvision's names with non-trivial
 * BatchNorm, normal-distributed images already normalised) for the train and the test images.
 * The settings travel in the file's metadata and on into the fixture, whose spec regenerates the
 * same inputs and compares the digest.
 *
 *   npx tsx tools/torch-reference/make-padim-inputs.ts <dir> [seed]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeSafetensors } from '@cfa/backbone';
import { parityInputs, parityInputsDigest } from '@cfa/descriptor/testing';

/**
 * 32 px: layer1..3 on 8, 4 and 2 cells (whole ratios, as embedding_concat needs), 64 positions;
 * the reference hard-codes d = 100 of resnet18's 448 channels. 16 train images, 6 test (the
 * first 3 good). `positions`: where the fixture keeps the 100×100 covariance and inverse (all 64
 * would be 5 MB).
 */
const SETTINGS = { backbone: 'resnet18', inputSize: 32, train: 16, test: 6, positions: [0, 27, 63], gammaD: 1 };

const [dir, seedArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: make-padim-inputs.ts <dir> [seed]');
const seed = Number(seedArg ?? 3);
await mkdir(dir, { recursive: true });
const tensors = parityInputs({ ...SETTINGS, seed, images: SETTINGS.train + SETTINGS.test });
const digest = parityInputsDigest(tensors);
const path = join(dir, 'padim.inputs.safetensors');
await writeFile(
  path,
  encodeSafetensors(tensors, { metadata: { settings: JSON.stringify({ ...SETTINGS, seed }), inputsSha256: digest } }),
);
console.log(`wrote ${path} (inputs sha256 ${digest.slice(0, 12)})`);
