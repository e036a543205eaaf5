/**
 * What both codes of the fidelity check read, made here from seeds: the synthetic dataset (the
 * embedded generator with the setup's config) and the backbone's seeded random-init weights as a
 * `.safetensors` file in the reference naming (torchvision's init: Kaiming-normal convolutions,
 * identity BatchNorm — the distribution the reference code's own `resnet18()` draws from). Their
 * digests are computed as `official_run.py` computes them, so a results file is only compared on
 * the inputs it was measured on.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { writeFileAtomic } from '@cfa/io';
import { ensureSyntheticDataset } from '@cfa/data';
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

export async function prepareFidelityInputs(setup: FidelitySetup): Promise<FidelityInputs> {
  const { root, category, synthetic } = setup.dataset;
  await ensureSyntheticDataset({ root, categories: [category], ...synthetic });
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
