/**
 * Property-based tests of the file-store reader (run by file-store.fuzz.spec.ts in a worker under
 * a watchdog and a heap cap): each file MLflow's layout holds — an experiment's and a run's
 * meta.yaml, a metric file, a param and a tag, a dataset's and an input's meta.yaml, a logged
 * model's meta.yaml and metric file, a run output's meta.yaml — is replaced by random bytes, a
 * truncation of the valid file, a few point mutations of it, or a hostile text.
 *
 * The property, for every damaged file: every read (`getRun`, `getMetricHistory`, `searchRuns`,
 * `getExperiment`, `getLoggedModel`, `searchLoggedModels`) gives a correct result or an `MlflowCorruptStoreError` that names that file —
 * never a TypeError or RangeError, never a hang. A truncated metric file reads as the whole lines
 * before the cut; a param or tag reads as its bytes, whatever they are.
 */
import { cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { checkProperties, type NamedProperty, type NoteInput, type PropertyOutcome } from '@cfa/io/testing';
import { MlflowCorruptStoreError } from './errors';
import { FileTrackingStore } from './file-store';
import { damaged, HOSTILE_TEXTS } from './testing/fuzz-bytes';

/** One async read's limit: past it the case is a hang (the worker's watchdog catches synchronous ones). */
const HANG_MS = 5_000;

interface SeededStore {
  root: string;
  experimentId: string;
  runId: string;
  runDir: string;
  modelId: string;
}

/**
 * A store with one finished run holding a metric history, a param, a tag, a dataset input and, as
 * its output, a logged model with metrics (one tied to the dataset).
 */
async function seededStore(): Promise<SeededStore> {
  const seed = join(await mkdtemp(join(tmpdir(), 'fuzz-store-')), 'mlruns');
  const store = new FileTrackingStore(seed);
  const experimentId = await store.getOrCreateExperiment('fuzz', { owner: 'me' });
  const run = await store.createRun({ experimentId, runName: 'cell: 1', startTime: 1_700_000_000_000 });
  const runId = run.info.runId;
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
  const modelId = model.modelId;
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
  const root = join(await mkdtemp(join(tmpdir(), 'fuzz-store-')), 'mlruns');
  await cp(seed, root, { recursive: true });
  return { root, experimentId, runId, runDir: join(root, experimentId, runId), modelId };
}

/** Every read a user of the store makes, on a fresh store (no cache). */
async function readEverything({ root, experimentId, runId, modelId }: SeededStore): Promise<void> {
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

/**
 * Damages `file`, reads, and restores it: a result (that `check` accepts), or an error naming the
 * file. `settled` waits for the case a time limit interrupted, so that the file is whole again
 * before the next property damages another one.
 */
async function fileProperty(
  store: SeededStore,
  name: string,
  file: string,
  note: NoteInput,
  check?: (bytes: Uint8Array) => Promise<void>,
): Promise<NamedProperty> {
  const valid = new Uint8Array(await readFile(file));
  let current: Promise<unknown> = Promise.resolve();
  const property = fc.asyncProperty(damaged(valid, HOSTILE_TEXTS), (damage) => {
    const run = (async () => {
      note(`${name} (${damage.kind}): ${Buffer.from(damage.bytes.subarray(0, 200)).toString('hex')}`);
      await writeFile(file, damage.bytes);
      try {
        await withinHangLimit(readEverything(store).then(() => check?.(damage.bytes)));
      } catch (error) {
        if (!(error instanceof MlflowCorruptStoreError) || !error.message.includes(file)) throw error;
      } finally {
        await writeFile(file, valid);
      }
    })();
    current = run.catch(() => undefined);
    return run;
  });
  return { name, property, settled: () => current.then(() => writeFile(file, valid)) };
}

export async function fileStoreProperties(note: NoteInput): Promise<PropertyOutcome> {
  const store = await seededStore();
  const { root, experimentId, runId, runDir, modelId } = store;
  const modelDir = join(root, experimentId, 'models', modelId);
  const only = async (dir: string) => (await readdir(dir))[0];
  const valueOf = (file: string) => async (bytes: Uint8Array) => {
    const run = await new FileTrackingStore(root).getRun(runId);
    const value = file.includes('params') ? run.data.params.lr : run.data.tags.note;
    if (value !== Buffer.from(bytes).toString('utf8')) throw new Error(`${file} read as ${JSON.stringify(value)}`);
  };
  const param = join(runDir, 'params', 'lr'),
    tag = join(runDir, 'tags', 'note');
  const properties = [
    await fileProperty(store, "an experiment's meta.yaml", join(root, experimentId, 'meta.yaml'), note),
    await fileProperty(store, "a run's meta.yaml", join(runDir, 'meta.yaml'), note),
    await fileProperty(store, 'a metric file', join(runDir, 'metrics', 'loss'), note, async (bytes) => {
      // a truncated metric file reads as the whole lines before the cut
      const text = Buffer.from(bytes).toString('utf8');
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      const history = await new FileTrackingStore(root).getMetricHistory(runId, 'loss');
      if (history.length !== complete.split('\n').length - 1)
        throw new Error(`${history.length} metric values read from ${complete.split('\n').length - 1} whole lines`);
    }),
    await fileProperty(store, 'a param (any bytes are the value)', param, note, valueOf(param)),
    await fileProperty(store, 'a tag (any bytes are the value)', tag, note, valueOf(tag)),
    await fileProperty(
      store,
      "a run input's meta.yaml",
      join(runDir, 'inputs', await only(join(runDir, 'inputs')), 'meta.yaml'),
      note,
    ),
    await fileProperty(
      store,
      "a dataset's meta.yaml",
      join(root, experimentId, 'datasets', await only(join(root, experimentId, 'datasets')), 'meta.yaml'),
      note,
    ),
    // fewer runs each: the logged-model files share the reads above, and the suite's time is bounded
    { ...(await fileProperty(store, "a logged model's meta.yaml", join(modelDir, 'meta.yaml'), note)), runs: 40 },
    {
      ...(await fileProperty(store, "a logged model's metric file", join(modelDir, 'metrics', 'auroc'), note)),
      runs: 40,
    },
    {
      ...(await fileProperty(store, "a run output's meta.yaml", join(runDir, 'outputs', modelId, 'meta.yaml'), note)),
      runs: 40,
    },
  ];
  return checkProperties(fc, properties, { runs: 120, timeLimitMs: 8_000 });
}
