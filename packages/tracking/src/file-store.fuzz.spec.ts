/**
 * Property tests of the file-store reader: each file MLflow's layout holds — an experiment's and a
 * run's meta.yaml, a metric file, a param and a tag, a dataset's and an input's meta.yaml, a logged
 * model's meta.yaml and metric file, a run output's meta.yaml — is
 * replaced by random bytes, a truncation of the valid file, a few point mutations of it, or a
 * hostile text, and every read (`getRun`, `getMetricHistory`, `searchRuns`, `getExperiment`,
 * `getLoggedModel`, `searchLoggedModels`) must
 * give a correct result or an `MlflowCorruptStoreError` that names that file: never a TypeError or
 * RangeError, never a hang. Bounded: at most `RUNS` cases or `TIME_LIMIT_MS` per file.
 */
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { MlflowCorruptStoreError } from './errors';
import { FileTrackingStore } from './file-store';
import { damaged, HOSTILE_TEXTS } from './testing/fuzz-bytes';

const RUNS = 120;
const TIME_LIMIT_MS = 8_000;
const HANG_MS = 5_000;

let root: string;
let experimentId: string;
let runId: string;
let runDir: string;
let inputMeta: string;
let datasetMeta: string;
let modelId: string;

beforeAll(async () => {
  const seed = join(await mkdtemp(join(tmpdir(), 'fuzz-store-')), 'mlruns');
  const store = new FileTrackingStore(seed);
  experimentId = await store.getOrCreateExperiment('fuzz', { owner: 'me' });
  const run = await store.createRun({ experimentId, runName: 'cell: 1', startTime: 1_700_000_000_000 });
  runId = run.info.runId;
  await store.logBatch(runId, {
    metrics: Array.from({ length: 6 }, (_, step) => ({
      key: 'loss',
      value: 1 / (step + 1),
      timestamp: 1000 + step,
      step,
    })),
    params: [{ key: 'lr', value: '0.001' }],
    tags: [{ key: 'note', value: 'hello' }],
  });
  await store.logInputs(runId, [
    {
      dataset: { name: 'weave', digest: 'abc123', sourceType: 'local', source: '{"uri": "/data"}' },
      tags: { 'mlflow.data.context': 'train' },
    },
  ]);
  const model = await store.createLoggedModel({ experimentId, name: 'cell', sourceRunId: runId, params: { m: 'cfa' } });
  modelId = model.modelId;
  await store.logOutputs(runId, [{ modelId, step: 0 }]);
  await store.logBatch(runId, {
    metrics: [0.5, 0.75].map((value, step) => ({
      key: 'auroc',
      value,
      timestamp: 2000 + step,
      step,
      modelId,
      ...(step ? { datasetName: 'weave', datasetDigest: 'abc123' } : {}),
    })),
  });
  await store.updateRun({ runId, status: 'FINISHED', endTime: 1_700_000_001_000 });
  root = join(await mkdtemp(join(tmpdir(), 'fuzz-store-')), 'mlruns');
  await cp(seed, root, { recursive: true });
  runDir = join(root, experimentId, runId);
  const { readdir } = await import('node:fs/promises');
  inputMeta = join(runDir, 'inputs', (await readdir(join(runDir, 'inputs')))[0], 'meta.yaml');
  datasetMeta = join(
    root,
    experimentId,
    'datasets',
    (await readdir(join(root, experimentId, 'datasets')))[0],
    'meta.yaml',
  );
});

/** Every read a user of the store makes, on a fresh store (no cache). */
async function readEverything(): Promise<void> {
  const store = new FileTrackingStore(root);
  await store.getExperiment(experimentId);
  await store.getRun(runId);
  await store.getMetricHistory(runId, 'loss');
  await store.searchRuns({ experimentIds: [experimentId] });
  await store.getLoggedModel(modelId);
  await store.searchLoggedModels({ experimentIds: [experimentId] });
}

function withinHangLimit<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer within ${HANG_MS} ms: a hang`)), HANG_MS),
    ),
  ]);
}

/** Damages one file, reads, and restores it; the property: a result, or an error naming the file. */
async function fuzzFile(
  file: string,
  check?: (bytes: Uint8Array) => Promise<void>,
  timeLimitMs = TIME_LIMIT_MS,
): Promise<void> {
  const valid = new Uint8Array(await readFile(file));
  // the case in progress when the time limit interrupts the run is not waited for by fast-check:
  // wait for it here, so that the file is restored before the next file is damaged
  let current: Promise<unknown> = Promise.resolve();
  await fc.assert(
    fc.asyncProperty(damaged(valid, HOSTILE_TEXTS), (damage) => {
      const run = (async () => {
        await writeFile(file, damage.bytes);
        try {
          await withinHangLimit(readEverything().then(() => check?.(damage.bytes)));
        } catch (error) {
          if (!(error instanceof MlflowCorruptStoreError) || !error.message.includes(file)) throw error;
        } finally {
          await writeFile(file, valid);
        }
      })();
      current = run.catch(() => undefined);
      return run;
    }),
    { numRuns: RUNS, interruptAfterTimeLimit: timeLimitMs, markInterruptAsFailure: false },
  );
  await current;
  await writeFile(file, valid);
}

describe('file-store reader under damaged files (fast-check)', () => {
  it("an experiment's meta.yaml", () => fuzzFile(join(root, experimentId, 'meta.yaml')));
  it("a run's meta.yaml", () => fuzzFile(join(runDir, 'meta.yaml')));
  it('a metric file; a truncated one reads as the whole lines before the cut', () =>
    fuzzFile(join(runDir, 'metrics', 'loss'), async (bytes) => {
      const text = Buffer.from(bytes).toString('utf8');
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      const history = await new FileTrackingStore(root).getMetricHistory(runId, 'loss');
      expect(history).toHaveLength(complete.split('\n').length - 1);
    }));
  it('a param and a tag: any bytes are the value', async () => {
    for (const file of [join(runDir, 'params', 'lr'), join(runDir, 'tags', 'note')]) {
      await fuzzFile(file, async (bytes) => {
        const run = await new FileTrackingStore(root).getRun(runId);
        const value = file.includes('params') ? run.data.params.lr : run.data.tags.note;
        expect(value).toBe(Buffer.from(bytes).toString('utf8'));
      });
    }
  });
  it("a run input's and a dataset's meta.yaml", async () => {
    await fuzzFile(inputMeta);
    await fuzzFile(datasetMeta);
  });
  it("a logged model's meta.yaml and metric file, a run output's meta.yaml", async () => {
    const modelDir = join(root, experimentId, 'models', modelId);
    for (const file of [
      join(modelDir, 'meta.yaml'),
      join(modelDir, 'metrics', 'auroc'),
      join(runDir, 'outputs', modelId, 'meta.yaml'),
    ])
      await fuzzFile(file, undefined, 2_500);
  });
});
