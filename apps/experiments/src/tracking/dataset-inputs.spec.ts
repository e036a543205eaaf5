import { appendFile, cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { indexCategory } from '@cfa/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { TINY_SYNTHETIC, tinyDataset } from '../testing/tiny-dataset';
import { datasetInputs } from './dataset-inputs';

let root: string;
beforeAll(async () => {
  root = await tinyDataset(['disc']);
});

describe('dataset inputs: what a cell reads, by split', () => {
  it('train and test of a category, with the data root as source, counts as profile, and a digest of the files', async () => {
    const inputs = await datasetInputs({ root, category: 'disc' });
    expect(inputs.map((d) => d.tags?.['mlflow.data.context'])).toEqual(['train', 'test']);
    const [train, test] = inputs.map((d) => d.dataset);
    expect(train).toMatchObject({ name: 'disc', sourceType: 'local', source: JSON.stringify({ uri: root }) });
    expect(JSON.parse(train.profile!)).toEqual({
      split: 'train',
      images: TINY_SYNTHETIC.trainCount,
      defective: 0,
      files: TINY_SYNTHETIC.trainCount,
    });
    const testImages = TINY_SYNTHETIC.testGoodCount + JSON.parse(test.profile!).defective;
    expect(JSON.parse(test.profile!)).toMatchObject({ split: 'test', images: testImages });
    // test images plus one mask per defective image
    expect(JSON.parse(test.profile!).files).toBe(testImages + JSON.parse(test.profile!).defective);
    expect(train.digest).toMatch(/^[0-9a-f]{16}$/);
    expect(test.digest).not.toBe(train.digest);
  });

  it('the digest follows the content of the files read: a changed mask changes the test digest only', async () => {
    const copy = await mkdtemp(join(tmpdir(), 'digest-'));
    await cp(root, copy, { recursive: true });
    const before = await datasetInputs({ root: copy, category: 'disc' });
    const mask = (await indexCategory({ root: copy, category: 'disc' })).test.find((s) => s.maskPath)!.maskPath!;
    await appendFile(mask, Buffer.from([0]));
    const after = await datasetInputs({ root: copy, category: 'disc' });
    expect(after[0].dataset.digest).toBe(before[0].dataset.digest);
    expect(after[1].dataset.digest).not.toBe(before[1].dataset.digest);
  });
});
