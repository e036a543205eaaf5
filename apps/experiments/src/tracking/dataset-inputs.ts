/**
 * A cell's datasets as MLflow dataset inputs (`runs/log-inputs`), so that the UI's Datasets column
 * and its filters show what each run read: one input per split, named by the category, with a
 * digest of the files the run reads — the images of `train/good`, and the test images with their
 * masks, exactly the list `indexCategory` gives the pipeline — the data root as the source, and
 * the split as the context (`mlflow.data.context`: train / test).
 *
 * The digest is the first 16 hex characters of a sha256 over each file's path (relative to the
 * category) and content, in the index's order: a changed, added or removed file changes it.
 * Within a process a digest is reused while no file's size or modification time changed.
 *
 * @example
 * ```ts
 * await store.logInputs(runId, await datasetInputs({ root: 'data/synthetic', category: 'weave' }));
 * ```
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { indexCategory } from '@cfa/data';
import { type DatasetInputRequest, MLFLOW_TAGS } from '@cfa/tracking';

const digests = new Map<string, Promise<string>>();

async function digestOf(root: string, files: string[]): Promise<string> {
  const stamps = await Promise.all(files.map(async (f) => stat(f).then((s) => `${s.size}:${s.mtimeMs}`)));
  const id = JSON.stringify([files, stamps]);
  let pending = digests.get(id);
  if (!pending) {
    pending = (async () => {
      const hash = createHash('sha256');
      for (const file of files) {
        hash.update(`${relative(root, file)}\0`);
        hash.update(await readFile(file));
        hash.update('\0');
      }
      return hash.digest('hex').slice(0, 16);
    })();
    digests.set(id, pending);
  }
  return pending;
}

export async function datasetInputs(options: { root: string; category: string }): Promise<DatasetInputRequest[]> {
  const root = resolve(options.root);
  const index = await indexCategory({ root, category: options.category });
  const categoryDir = resolve(root, options.category);
  const splits = {
    train: { files: index.train.map((s) => s.imagePath), images: index.train.length, defective: 0 },
    test: {
      files: index.test.flatMap((s) => (s.maskPath ? [s.imagePath, s.maskPath] : [s.imagePath])),
      images: index.test.length,
      defective: index.test.filter((s) => s.label === 1).length,
    },
  };
  const out: DatasetInputRequest[] = [];
  for (const [context, split] of Object.entries(splits)) {
    out.push({
      dataset: {
        name: options.category,
        digest: await digestOf(
          categoryDir,
          split.files.map((f) => resolve(f)),
        ),
        sourceType: 'local',
        source: JSON.stringify({ uri: root }),
        profile: JSON.stringify({
          split: context,
          images: split.images,
          defective: split.defective,
          files: split.files.length,
        }),
      },
      tags: { [MLFLOW_TAGS.datasetContext]: context },
    });
  }
  return out;
}
