/**
 * Test support (not exported): one synthetic `disc` category at 64×64 with 4 train images, in a
 * fresh temporary folder — small enough for a whole fit/predict per test on both engines.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSyntheticDataset } from '@cfa/data';

/** The dataset root; its category is `disc`, with 2 good and `testDefectCount` defective test images. */
export async function tinyDiscCategory(prefix: string, testDefectCount: number): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  await generateSyntheticDataset({
    root,
    categories: ['disc'],
    imageSize: 64,
    trainCount: 4,
    testGoodCount: 2,
    testDefectCount,
  });
  return root;
}
