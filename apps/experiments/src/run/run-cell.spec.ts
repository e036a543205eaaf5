/**
 * A run's folder appears whole or not at all: a rerun that fails while writing (the model written,
 * the result not yet — what a full disk or Ctrl-C did) leaves the previous run's files as they
 * were, never a mix of the two runs; a second run into a folder that one is writing is refused at
 * once, naming the first.
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EngineSelection, selectEngine } from '@cfa/tensor-runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { TINY_BASE, tinyDataset } from '../testing/tiny-dataset';
import { runCell } from './run-cell';
import { type RunConfig, RunConfigSchema } from './run-config';

let engine: EngineSelection;
let dir: string;
let config: (seed: number) => RunConfig;

beforeAll(async () => {
  const root = await tinyDataset(['weave']);
  dir = await mkdtemp(join(tmpdir(), 'run-cell-'));
  engine = await selectEngine({ requested: 'auto', tfBackend: 'wasm', threads: 1 });
  config = (seed) => RunConfigSchema.parse({ dataset: { root, category: 'weave' }, ...TINY_BASE, seed, heatmaps: 0 });
});

/** The files of a folder and their bytes, for comparing two states of it. */
async function snapshot(folder: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(folder, { recursive: true, withFileTypes: true }))
    if (e.isFile())
      out.set(
        join(e.parentPath, e.name).slice(folder.length + 1),
        (await readFile(join(e.parentPath, e.name))).toString('base64'),
      );
  return out;
}

describe('runCell: the run folder', () => {
  it('one run at a time: a second is refused at once, naming the first; a rerun that fails after writing its model leaves the previous run whole', async () => {
    const out = join(dir, 'run');
    const first = runCell({ config: config(0), engine, outDir: out });
    await new Promise((r) => setTimeout(r, 200));
    await expect(runCell({ config: config(1), engine, outDir: out })).rejects.toThrow(
      new RegExp(`^--out .*run: another run is writing this folder — process ${process.pid} .*holds .*\\.run\\.lock`),
    );
    await first;
    const before = await snapshot(out);
    expect([...before.keys()]).toEqual(
      expect.arrayContaining(['result.json', 'model/manifest.json', 'mlflow-model/MLmodel']),
    );
    const lines: string[] = [];
    const error = await runCell({
      config: config(1),
      engine,
      outDir: out,
      log: (l) => lines.push(l),
      // called once model/ and mlflow-model/ are written, before scores.csv and result.json
      onMlflowModel: () => {
        throw new Error('ENOSPC: no space left on device, write');
      },
    }).then(
      () => new Error('the rerun succeeded'),
      (e: unknown) => e as Error,
    );
    expect(error.message).toMatch(
      /ENOSPC.* — the outputs of this run were not written and .*run is as it was; its metrics: I-AUROC \d/,
    );
    // the numbers were shown before anything was written
    expect(lines.some((l) => /^weave: I-AUROC [\d.]+, P-AUROC [\d.]+, .*; writing .*run$/.test(l))).toBe(true);
    // not a file of the second run: the first run's folder as it was, and nothing left beside it
    expect(await snapshot(out)).toEqual(before);
    expect(await readdir(dir)).toEqual(['run']);
  }, 120_000);
});
