/**
 * What MLflow's file store writes in its files, as zod schemas, and the readers that check them: a
 * file that is not what MLflow writes — a meta.yaml that is not a mapping of the expected fields, a
 * metric line that is not `<timestamp> <value> <step>` — is `MlflowCorruptStoreError` naming it.
 * The fuzz spec (file-store.fuzz.spec.ts) holds the reader to that: that error or a correct result,
 * never a TypeError.
 *
 * @example
 * ```ts
 * const meta = await readMeta(join(runDir, 'meta.yaml'), RunMetaSchema);
 * const m = parseMetricLine('loss', '1700000000000 0.25 3', file, 1); // { key, timestamp, value: 0.25, step: 3 }
 * ```
 */
import { z } from 'zod';
import type { Metric } from './entities';
import { MlflowCorruptStoreError } from './errors';
import { writeFileAtomic } from '@cfa/io';
import { readStoreFile } from './file-store-layout';
import { dumpMetaYaml, type MetaValue, parseMetaYaml } from './meta-yaml';
import { parsePythonFloat } from './metric-value';

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const timeMs = z.number().int().nonnegative().nullish();

/** What MLflow's FileStore writes in an experiment's meta.yaml (older versions: experiment_id as an int). */
export const ExperimentMetaSchema = z.looseObject({
  experiment_id: z.union([z.string(), z.number().int()]),
  name: scalar,
  artifact_location: z.string().nullish(),
  lifecycle_stage: z.string().nullish(),
  creation_time: timeMs,
  last_update_time: timeMs,
});

/** What MLflow's FileStore writes in a run's meta.yaml (`_make_persisted_run_info_dict`). */
export const RunMetaSchema = z.looseObject({
  run_id: scalar.nullish(),
  run_uuid: scalar.nullish(),
  run_name: scalar.nullish(),
  experiment_id: z.union([z.string(), z.number().int()]),
  user_id: scalar.nullish(),
  status: z.number().int().min(1).max(5).nullish(),
  start_time: timeMs,
  end_time: timeMs,
  artifact_uri: z.string().nullish(),
  lifecycle_stage: z.string().nullish(),
});

/** A dataset's meta.yaml: `dict(Dataset)` in MLflow. */
export const DatasetMetaSchema = z.looseObject({
  name: scalar,
  digest: scalar,
  source_type: scalar.nullish(),
  source: scalar.nullish(),
  schema: z.string().nullish(),
  profile: z.string().nullish(),
});

/** A run input's meta.yaml: MLflow's `_FileStoreInput`. */
export const InputMetaSchema = z.looseObject({
  source_type: z.string(),
  source_id: z.string(),
  tags: z.record(z.string(), scalar.nullable()).nullish(),
});

/** A run output's meta.yaml: MLflow's `_FileStoreOutput` (it writes the model id as source and destination). */
export const OutputMetaSchema = z.looseObject({
  source_type: z.string(),
  source_id: z.string(),
  destination_type: z.string(),
  destination_id: z.string(),
  step: z.number().int().nullish(),
});

/** A logged model's meta.yaml: `LoggedModel.to_dictionary()` without tags, params and metrics; status as an int. */
export const LoggedModelMetaSchema = z.looseObject({
  model_id: z.string(),
  experiment_id: z.union([z.string(), z.number().int()]),
  name: scalar,
  artifact_location: z.string().nullish(),
  creation_timestamp: timeMs,
  last_updated_timestamp: timeMs,
  model_type: scalar.nullish(),
  source_run_id: z.string().nullish(),
  status: z.number().int().min(0).max(3).nullish(),
  status_message: scalar.nullish(),
  lifecycle_stage: z.string().nullish(),
});

/** A meta.yaml read and checked; `MlflowCorruptStoreError` naming the file when it is not what MLflow writes. */
export async function readMeta<T>(path: string, schema: z.ZodType<T>): Promise<T> {
  const parsed = schema.safeParse(parseMetaYaml(await readStoreFile(path), path));
  if (!parsed.success)
    throw new MlflowCorruptStoreError(
      path,
      `not an MLflow meta.yaml: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`,
    );
  return parsed.data;
}

/**
 * A meta.yaml written as MLflow reads it (`dumpMetaYaml`), atomically and durably: through a temp
 * file in `tempDir` (default: beside it) and a rename, fsync'd.
 */
export async function writeMeta(
  path: string,
  fields: Readonly<Record<string, MetaValue | undefined>>,
  tempDir?: string,
): Promise<void> {
  await writeFileAtomic(path, dumpMetaYaml(fields), { ...(tempDir ? { tempDir } : {}), durable: true });
}

/** The largest (step, timestamp, value), compared as Python compares tuples (NaN never larger). */
export function later(b: Metric, a: Metric): boolean {
  if (b.step !== a.step) return b.step > a.step;
  if (b.timestamp !== a.timestamp) return b.timestamp > a.timestamp;
  return b.value > a.value;
}

const INTEGER = /^[-+]?\d{1,16}$/;

/** The fields every metric line starts with, checked. */
function metricFields(key: string, parts: string[], bad: (why: string) => MlflowCorruptStoreError): Metric {
  if (!INTEGER.test(parts[0])) throw bad(`timestamp ${JSON.stringify(parts[0].slice(0, 40))}`);
  if (parts.length >= 3 && !INTEGER.test(parts[2])) throw bad(`step ${JSON.stringify(parts[2].slice(0, 40))}`);
  let value: number;
  try {
    value = parsePythonFloat(parts[1]);
  } catch {
    throw bad(`value ${JSON.stringify(parts[1].slice(0, 40))}`);
  }
  return { key, timestamp: Number(parts[0]), value, step: parts.length >= 3 ? Number(parts[2]) : 0 };
}

/**
 * One line of a run's metric file, as MLflow's `_get_metric_from_line` reads it: `<timestamp>
 * <value>`, then `<step>`, then — for a value measured on a dataset (MLflow 3) — `<dataset name>
 * <dataset digest>`. Anything else names the file.
 */
export function parseMetricLine(key: string, line: string, file: string, lineNumber: number): Metric {
  const parts = line.trim().split(' ');
  const bad = (why: string) =>
    new MlflowCorruptStoreError(file, `line ${lineNumber} is not '<timestamp> <value> <step>': ${why}`);
  if (parts.length !== 2 && parts.length !== 3 && parts.length !== 5)
    throw bad(`${parts.length} fields, expected 2, 3 or 5`);
  const metric = metricFields(key, parts, bad);
  return parts.length === 5 ? { ...metric, datasetName: parts[3], datasetDigest: parts[4] } : metric;
}

/**
 * One line of a logged model's metric file (`_get_model_metric_from_line`): `<timestamp> <value>
 * <step> <run_id>`, and `<dataset name> <dataset digest>` when measured on a dataset.
 */
export function parseModelMetricLine(
  key: string,
  modelId: string,
  line: string,
  file: string,
  lineNumber: number,
): Metric & { runId: string } {
  const parts = line.trim().split(' ');
  const bad = (why: string) =>
    new MlflowCorruptStoreError(file, `line ${lineNumber} is not '<timestamp> <value> <step> <run id>': ${why}`);
  if (parts.length !== 4 && parts.length !== 6) throw bad(`${parts.length} fields, expected 4 or 6`);
  return {
    ...metricFields(key, parts, bad),
    modelId,
    runId: parts[3],
    ...(parts.length === 6 ? { datasetName: parts[4], datasetDigest: parts[5] } : {}),
  };
}
