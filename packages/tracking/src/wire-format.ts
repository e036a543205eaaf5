/**
 * MLflow REST JSON (protobuf JSON of `mlflow/protos/service.proto`, snake_case) to and from this
 * package's entities. The client reads answers with the `from…` functions, the fake server writes
 * them with the `to…` ones; `server-contract.ts` checks the shapes against a real server.
 *
 * MLflow leaves out fields at their proto default: an empty file has no `file_size`, a run with no
 * end has no `end_time`, an empty list is absent. Metric values are numbers, or the strings
 * "NaN"/"Infinity"/"-Infinity".
 *
 * @example
 * ```ts
 * const run = runFromWire((await response.json()).run);
 * ```
 */
import { z } from 'zod';
import {
  type ArtifactInfo,
  type DatasetInput,
  type Experiment,
  type LoggedModel,
  type LoggedModelStatus,
  type Metric,
  type Run,
  RUN_STATUSES,
  type RunStatus,
} from './entities';
import { decodeMetricValue, encodeMetricValue } from './metric-value';

const WireKeyValueSchema = z.looseObject({ key: z.string(), value: z.string().optional() });
const WireMetricSchema = z.looseObject({
  key: z.string(),
  value: z.union([z.number(), z.string()]),
  timestamp: z.coerce.number(),
  step: z.coerce.number().optional(),
  model_id: z.string().optional(),
  dataset_name: z.string().optional(),
  dataset_digest: z.string().optional(),
  run_id: z.string().optional(),
});

const WireDatasetInputSchema = z.looseObject({
  tags: z.array(WireKeyValueSchema).optional(),
  dataset: z.looseObject({
    name: z.string(),
    digest: z.string(),
    source_type: z.string().optional(),
    source: z.string().optional(),
    schema: z.string().optional(),
    profile: z.string().optional(),
  }),
});

export const WireRunSchema = z.looseObject({
  info: z.looseObject({
    run_id: z.string().optional(),
    run_uuid: z.string().optional(),
    run_name: z.string().optional(),
    experiment_id: z.string(),
    user_id: z.string().optional(),
    status: z.string().optional(),
    start_time: z.coerce.number().optional(),
    end_time: z.coerce.number().optional(),
    artifact_uri: z.string().optional(),
    lifecycle_stage: z.string().optional(),
  }),
  data: z
    .looseObject({
      metrics: z.array(WireMetricSchema).optional(),
      params: z.array(WireKeyValueSchema).optional(),
      tags: z.array(WireKeyValueSchema).optional(),
    })
    .optional(),
  inputs: z.looseObject({ dataset_inputs: z.array(WireDatasetInputSchema).optional() }).optional(),
  outputs: z
    .looseObject({
      model_outputs: z.array(z.looseObject({ model_id: z.string(), step: z.coerce.number().optional() })).optional(),
    })
    .optional(),
});
export type WireRun = z.infer<typeof WireRunSchema>;

export const WireExperimentSchema = z.looseObject({
  experiment_id: z.string(),
  name: z.string(),
  artifact_location: z.string().optional(),
  lifecycle_stage: z.string().optional(),
  creation_time: z.coerce.number().optional(),
  last_update_time: z.coerce.number().optional(),
  tags: z.array(WireKeyValueSchema).optional(),
});

export const WireFileInfoSchema = z.looseObject({
  path: z.string(),
  is_dir: z.boolean().optional(),
  file_size: z.coerce.number().optional(),
});

export function metricFromWire(m: z.infer<typeof WireMetricSchema>): Metric {
  return {
    key: m.key,
    value: decodeMetricValue(m.value),
    timestamp: m.timestamp,
    step: m.step ?? 0,
    ...(m.model_id ? { modelId: m.model_id } : {}),
    ...(m.dataset_name ? { datasetName: m.dataset_name } : {}),
    ...(m.dataset_digest ? { datasetDigest: m.dataset_digest } : {}),
  };
}

export function runFromWire(raw: unknown): Run {
  const wire = WireRunSchema.parse(raw);
  const i = wire.info;
  const metrics: Record<string, Metric> = {};
  for (const m of wire.data?.metrics ?? []) metrics[m.key] = metricFromWire(m);
  const status = (RUN_STATUSES as readonly string[]).includes(i.status ?? '') ? (i.status as RunStatus) : 'RUNNING';
  return {
    info: {
      runId: i.run_id ?? i.run_uuid ?? '',
      runName: i.run_name ?? '',
      experimentId: i.experiment_id,
      userId: i.user_id ?? '',
      status,
      startTime: i.start_time ?? 0,
      ...(i.end_time !== undefined ? { endTime: i.end_time } : {}),
      artifactUri: i.artifact_uri ?? '',
      lifecycleStage: i.lifecycle_stage ?? 'active',
    },
    data: {
      metrics,
      params: Object.fromEntries((wire.data?.params ?? []).map((p) => [p.key, p.value ?? ''])),
      tags: Object.fromEntries((wire.data?.tags ?? []).map((t) => [t.key, t.value ?? ''])),
    },
    inputs: { datasetInputs: (wire.inputs?.dataset_inputs ?? []).map(datasetInputFromWire) },
    outputs: {
      modelOutputs: (wire.outputs?.model_outputs ?? []).map((o) => ({ modelId: o.model_id, step: o.step ?? 0 })),
    },
  };
}

function datasetInputFromWire(d: z.infer<typeof WireDatasetInputSchema>): DatasetInput {
  const s = d.dataset;
  return {
    dataset: {
      name: s.name,
      digest: s.digest,
      sourceType: s.source_type ?? '',
      source: s.source ?? '',
      ...(s.schema ? { schema: s.schema } : {}),
      ...(s.profile ? { profile: s.profile } : {}),
    },
    tags: Object.fromEntries((d.tags ?? []).map((t) => [t.key, t.value ?? ''])),
  };
}

/** A dataset input as `runs/log-inputs` takes it and `runs/get` returns it. */
export function datasetInputToWire(d: DatasetInput) {
  const s = d.dataset;
  return {
    ...(Object.keys(d.tags).length ? { tags: keyValues(d.tags) } : {}),
    dataset: {
      name: s.name,
      digest: s.digest,
      source_type: s.sourceType,
      source: s.source,
      ...(s.schema ? { schema: s.schema } : {}),
      ...(s.profile ? { profile: s.profile } : {}),
    },
  };
}

export function experimentFromWire(raw: unknown): Experiment {
  const e = WireExperimentSchema.parse(raw);
  return {
    experimentId: e.experiment_id,
    name: e.name,
    artifactLocation: e.artifact_location ?? '',
    lifecycleStage: e.lifecycle_stage ?? 'active',
    ...(e.creation_time !== undefined ? { creationTime: e.creation_time } : {}),
    ...(e.last_update_time !== undefined ? { lastUpdateTime: e.last_update_time } : {}),
    tags: Object.fromEntries((e.tags ?? []).map((t) => [t.key, t.value ?? ''])),
  };
}

/** An artifact listing entry; `base` is the listed folder relative to the run's root ('' for the root). */
export function artifactFromWire(raw: unknown, base: string): ArtifactInfo {
  const f = WireFileInfoSchema.parse(raw);
  const name = f.path.split('/').pop()!;
  const path = base ? `${base}/${name}` : name;
  return f.is_dir ? { path, isDir: true } : { path, isDir: false, fileSize: f.file_size ?? 0 };
}

export function metricToWire(m: Metric, runId?: string) {
  return {
    key: m.key,
    value: encodeMetricValue(m.value),
    timestamp: m.timestamp,
    step: m.step,
    ...(m.datasetName ? { dataset_name: m.datasetName } : {}),
    ...(m.datasetDigest ? { dataset_digest: m.datasetDigest } : {}),
    ...(m.modelId ? { model_id: m.modelId } : {}),
    ...(runId ? { run_id: runId } : {}),
  };
}

const keyValues = (record: Record<string, string>) => Object.entries(record).map(([key, value]) => ({ key, value }));

export function runToWire(run: Run) {
  const i = run.info;
  return {
    info: {
      run_uuid: i.runId,
      experiment_id: i.experimentId,
      run_name: i.runName,
      user_id: i.userId,
      status: i.status,
      start_time: i.startTime,
      ...(i.endTime !== undefined ? { end_time: i.endTime } : {}),
      artifact_uri: i.artifactUri,
      lifecycle_stage: i.lifecycleStage,
      run_id: i.runId,
    },
    data: {
      ...(Object.keys(run.data.metrics).length
        ? { metrics: Object.values(run.data.metrics).map((m) => metricToWire(m)) }
        : {}),
      ...(Object.keys(run.data.params).length ? { params: keyValues(run.data.params) } : {}),
      ...(Object.keys(run.data.tags).length ? { tags: keyValues(run.data.tags) } : {}),
    },
    inputs: run.inputs.datasetInputs.length ? { dataset_inputs: run.inputs.datasetInputs.map(datasetInputToWire) } : {},
    outputs: run.outputs.modelOutputs.length
      ? { model_outputs: run.outputs.modelOutputs.map((o) => ({ model_id: o.modelId, step: o.step })) }
      : {},
  };
}

export function experimentToWire(e: Experiment) {
  return {
    experiment_id: e.experimentId,
    name: e.name,
    artifact_location: e.artifactLocation,
    lifecycle_stage: e.lifecycleStage,
    ...(e.lastUpdateTime !== undefined ? { last_update_time: e.lastUpdateTime } : {}),
    ...(e.creationTime !== undefined ? { creation_time: e.creationTime } : {}),
    ...(Object.keys(e.tags).length ? { tags: keyValues(e.tags) } : {}),
  };
}

export function artifactToWire(a: ArtifactInfo, listedPath: string) {
  const name = a.path.split('/').pop()!;
  const path = listedPath ? `${listedPath}/${name}` : name;
  return a.isDir ? { path, is_dir: true } : { path, is_dir: false, ...(a.fileSize ? { file_size: a.fileSize } : {}) };
}

/** MLflow's LoggedModelStatus enum names on the wire (`LOGGED_MODEL_READY`, …). */
export const loggedModelStatusToWire = (s: LoggedModelStatus) => `LOGGED_MODEL_${s}` as const;

const WireLoggedModelSchema = z.looseObject({
  info: z.looseObject({
    model_id: z.string(),
    experiment_id: z.string(),
    name: z.string().optional(),
    creation_timestamp_ms: z.coerce.number().optional(),
    last_updated_timestamp_ms: z.coerce.number().optional(),
    artifact_uri: z.string().optional(),
    status: z.string().optional(),
    status_message: z.string().optional(),
    model_type: z.string().optional(),
    source_run_id: z.string().optional(),
    tags: z.array(WireKeyValueSchema).optional(),
  }),
  data: z
    .looseObject({
      params: z.array(WireKeyValueSchema).optional(),
      metrics: z.array(WireMetricSchema).optional(),
    })
    .optional(),
});

export function loggedModelFromWire(raw: unknown): LoggedModel {
  const { info: i, data } = WireLoggedModelSchema.parse(raw);
  const status = i.status?.replace(/^LOGGED_MODEL_/, '');
  return {
    modelId: i.model_id,
    experimentId: i.experiment_id,
    name: i.name ?? '',
    artifactUri: i.artifact_uri ?? '',
    status: status === 'READY' || status === 'UPLOAD_FAILED' ? status : 'PENDING',
    ...(i.status_message ? { statusMessage: i.status_message } : {}),
    ...(i.model_type ? { modelType: i.model_type } : {}),
    ...(i.source_run_id ? { sourceRunId: i.source_run_id } : {}),
    creationTimestamp: i.creation_timestamp_ms ?? 0,
    lastUpdatedTimestamp: i.last_updated_timestamp_ms ?? 0,
    tags: Object.fromEntries((i.tags ?? []).map((t) => [t.key, t.value ?? ''])),
    params: Object.fromEntries((data?.params ?? []).map((p) => [p.key, p.value ?? ''])),
    metrics: (data?.metrics ?? []).map((m) => ({ ...metricFromWire(m), ...(m.run_id ? { runId: m.run_id } : {}) })),
  };
}

/** As MLflow 3.6 answers it: empty strings for an unset type and source run, absent empty lists. */
export function loggedModelToWire(m: LoggedModel) {
  return {
    info: {
      model_id: m.modelId,
      experiment_id: m.experimentId,
      name: m.name,
      creation_timestamp_ms: m.creationTimestamp,
      last_updated_timestamp_ms: m.lastUpdatedTimestamp,
      artifact_uri: m.artifactUri,
      status: loggedModelStatusToWire(m.status),
      ...(m.statusMessage ? { status_message: m.statusMessage } : {}),
      model_type: m.modelType ?? '',
      source_run_id: m.sourceRunId ?? '',
      ...(Object.keys(m.tags).length ? { tags: keyValues(m.tags) } : {}),
    },
    data: {
      ...(Object.keys(m.params).length ? { params: keyValues(m.params) } : {}),
      ...(m.metrics.length ? { metrics: m.metrics.map((x) => metricToWire(x, x.runId)) } : {}),
    },
  };
}
