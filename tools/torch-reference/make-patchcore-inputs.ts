/**
 * Writes the inputs that `patchcore_fixtures.py` feeds to the PatchCore reference code's own
 * modules: for the pipeline (resnet18: features, coreset, scores, maps) and the features at the
 * authors' default dimensions (wide_resnet50_2), `patchCoreParityInputs` — seeded random
 * torchvision weights with non-trivial BatchNorm, images, and the coreset's projection and starting
 * points as `fitPatchCore` draws them. The settings travel in each file's metadata and on into the
 * fixtures, whose spec regenerates the same inputs and compares digests.
 *
 *   npx tsx tools/torch-reference/make-patchcore-inputs.ts <dir> [seed]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeSafetensors } from '@cfa/backbone';
import { parityInputsDigest } from '@cfa/descriptor/testing';
import { PATCHCORE_PARITY_SETTINGS, patchCoreParityInputs } from '@cfa/patchcore/testing';

const [dir, seedArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: make-patchcore-inputs.ts <dir> [seed]');
const seed = Number(seedArg ?? 1);
await mkdir(dir, { recursive: true });
for (const base of PATCHCORE_PARITY_SETTINGS) {
  const settings = { ...base, seed };
  const tensors = patchCoreParityInputs(settings);
  const digest = parityInputsDigest(tensors);
  const path = join(dir, `${settings.backbone}.inputs.safetensors`);
  await writeFile(
    path,
    encodeSafetensors(tensors, { metadata: { settings: JSON.stringify(settings), inputsSha256: digest } }),
  );
  console.log(`wrote ${path} (inputs sha256 ${digest.slice(0, 12)})`);
}
