/**
 * What both codes of the fidelity check read, made here from seeds: the synthetic dataset (the
 * embedded generator with the setup's config) and the backbone's seeded random-init weights as a
 * `.safetensors` file in the reference naming (torchvision's init: Kaiming-normal convolutions,
 * identity BatchNorm — the distribution the reference code's own `resnet18()` draws from). Their
 * digests are computed as `official_run.py` computes them, so a results file is only compared on
 * the inputs it was measured on.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { writeFileAtomic } from '@cfa/io';
import { decodeImage, decodeMask, encodePng, ensureSyntheticDataset, resizeBilinear, resizeNearest } from '@cfa/data';
import { backboneDefinition, encodeSafetensors, randomInitWeights } from '@cfa/backbone';
import type { FidelitySetup } from './fidelity-files';

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/**
 * sha256 over each file's path relative to `dir` and its own sha256 (hex), folders in sorted path
 * order and files sorted within each — `official_run.py`'s `data_digest`, which walks with os.walk.
 */
export async function folderDigest(dir: string): Promise<string> {
  const folders: string[] = [];
  const walk = async (d: string): Promise<void> => {
    folders.push(d);
    for (const e of await readdir(d, { withFileTypes: true })) if (e.isDirectory()) await walk(join(d, e.name));
  };
  await walk(dir);
  const hash = createHash('sha256');
  for (const folder of folders.sort()) {
    const files = (await readdir(folder, { withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
    for (const name of files) {
      const path = join(folder, name);
      hash.update(relative(dir, path));
      hash.update(sha256(await readFile(path)));
    }
  }
  return hash.digest('hex');
}

export interface FidelityInputs {
  dataRoot: string;
  category: string;
  dataSha256: string;
  weightsPath: string;
  weightsSha256: string;
}

/** Every file under `dir`, relative paths. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  return out.sort();
}

/**
 * The generated category's images and masks resampled to `size` into `target` (the manifest left
 * behind: no loader needs it). Bilinear for images (rounded to 8 bits), nearest for masks.
 */
async function resampledCopy(source: string, target: string, size: { width: number; height: number }) {
  await rm(target, { recursive: true, force: true });
  for (const rel of await filesUnder(source)) {
    if (!rel.endsWith('.png')) continue;
    const path = join(source, rel);
    const isMask = rel.startsWith('ground_truth');
    const raster = isMask
      ? resizeNearest(await decodeMask(path), size.width, size.height)
      : resizeBilinear(await decodeImage(path), size.width, size.height);
    const data = isMask
      ? Uint8Array.from(raster.data, (v) => (v ? 255 : 0))
      : Uint8Array.from(raster.data, (v) => Math.max(0, Math.min(255, Math.round(v * 255))));
    const png = await encodePng({ data, width: size.width, height: size.height, channels: isMask ? 1 : 3 });
    await writeFileAtomic(join(target, rel), png);
  }
}

export async function prepareFidelityInputs(setup: FidelitySetup): Promise<FidelityInputs> {
  const { root, category, synthetic, resizeTo } = setup.dataset;
  if (resizeTo) {
    // generated into a dot-folder (never data), then resampled into the category folder
    const source = join(root, '.generated');
    await ensureSyntheticDataset({ root: source, categories: [category], ...synthetic });
    await resampledCopy(join(source, category), join(root, category), resizeTo);
  } else {
    await ensureSyntheticDataset({ root, categories: [category], ...synthetic });
  }
  const weights = randomInitWeights(backboneDefinition(setup.backbone.name, 'reference'), setup.backbone.weightsSeed);
  const bytes = encodeSafetensors(weights, { metadata: { generator: 'cfa fidelity: randomInitWeights' } });
  await writeFileAtomic(setup.backbone.weightsFile, bytes);
  return {
    dataRoot: root,
    category,
    dataSha256: await folderDigest(join(root, category)),
    weightsPath: setup.backbone.weightsFile,
    weightsSha256: sha256(bytes),
  };
}
