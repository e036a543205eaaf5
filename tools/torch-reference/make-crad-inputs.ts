/**
 * Writes the inputs that `crad_fixtures.py` feeds to the CRAD reference code's own modules: the
 * seeded EfficientNet-B4 (reference naming, non-trivial BatchNorm) with images (`parityInputs` of
 * @cfa/descriptor), and two CRAD state dicts with features (`cradParityInputs` of @cfa/crad): the
 * reference architecture at full width (C = 216, the channels of B4's out-layers 3 and 4) and a
 * narrow one (C = 8) whose gradients are small enough to commit. The settings travel in each
 * file's metadata and on into the fixtures, whose specs regenerate the same inputs and compare
 * digests.
 *
 *   npx tsx tools/torch-reference/make-crad-inputs.ts <dir> [seed]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeSafetensors, type StateDict } from '@cfa/backbone';
import { parityInputs, parityInputsDigest } from '@cfa/descriptor/testing';
import { cradParityInputs, type CradParitySpec } from '@cfa/crad/testing';

/** The reference's config (`experiments/config.yaml`) where it matters; widths cut for fixture size. */
export const CRAD_FIXTURES: Record<string, Omit<CradParitySpec, 'seed'> & { training: Record<string, number> }> = {
  // unpatched: MobileBottleneck(432, …) is the reference's own width; one thin bottleneck
  full: {
    channels: 216,
    height: 4,
    width: 4,
    batch: 2,
    layers: 1,
    expansion: 16,
    localResolution: 8,
    globalResolution: 4,
    featureScale: 1,
    training: { gridLr: 0.1, netLr: 0.001, weightDecay: 0.01, clipMaxNorm: 0.1, noiseStd: 0.05 },
  },
  // MobileBottleneck's width patched from 432 to 2·C (crad_code.py patch 3)
  narrow: {
    channels: 8,
    height: 4,
    width: 4,
    batch: 3,
    layers: 2,
    expansion: 16,
    localResolution: 8,
    globalResolution: 4,
    featureScale: 2,
    training: { gridLr: 0.1, netLr: 0.001, weightDecay: 0.01, clipMaxNorm: 0.1, noiseStd: 0.05 },
  },
};

const BACKBONE = { backbone: 'efficientnet_b4', inputSize: 64, images: 2, gammaD: 1 };

async function write(path: string, tensors: StateDict, settings: object): Promise<void> {
  const digest = parityInputsDigest(tensors);
  await writeFile(
    path,
    encodeSafetensors(tensors, { metadata: { settings: JSON.stringify(settings), inputsSha256: digest } }),
  );
  console.log(`wrote ${path} (inputs sha256 ${digest.slice(0, 12)})`);
}

const [dir, seedArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: make-crad-inputs.ts <dir> [seed]');
const seed = Number(seedArg ?? 3);
await mkdir(dir, { recursive: true });
await write(join(dir, 'efficientnet_b4.inputs.safetensors'), parityInputs({ ...BACKBONE, seed }), {
  ...BACKBONE,
  seed,
});
for (const [name, spec] of Object.entries(CRAD_FIXTURES)) {
  const { training, ...shape } = spec;
  await write(join(dir, `crad.${name}.inputs.safetensors`), cradParityInputs({ ...shape, seed }), {
    name,
    seed,
    ...shape,
    training,
  });
}
