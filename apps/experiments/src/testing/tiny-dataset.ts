/**
 * A tiny synthetic dataset and matching config for the app's tests: 64-pixel images, a handful per
 * split, so a whole cell runs in a couple of seconds.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSyntheticDataset } from '@cfa/data';

export const TINY_SYNTHETIC = { imageSize: 64, trainCount: 4, testGoodCount: 2, testDefectCount: 4 };

export async function tinyDataset(categories = ['weave', 'disc']): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'cfa-tiny-'));
  await generateSyntheticDataset({ root, categories, ...TINY_SYNTHETIC });
  return root;
}

/**
 * Base config for tiny cells: small view, one epoch, no k-means iterations to speak of; the short
 * batch kept (4 train images less a held-out one make no full batch of 4 for `dropLast`).
 */
export const TINY_BASE = {
  view: { kind: 'center-crop', resize: 64, crop: 56 },
  training: { epochs: 1, dropLast: false },
  scoring: { sigma: 1 },
};
