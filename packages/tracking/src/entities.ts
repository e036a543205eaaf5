/**
 * MLflow's tracking entities as this package speaks them: the REST API 2.0 messages
 * (`mlflow/protos/service.proto`), camelCased, as zod schemas with their types beside them.
 * Requests are strict objects so that a misspelt field (`runname`) fails instead of vanishing.
 *
 * @example
 * ```ts
 * import { CreateRunRequestSchema } from '@cfa/tracking';
 * const request = CreateRunRequestSchema.parse({ experimentId: '0', runName: 'weave att+rep' });
 * ```
 */
import { z } from 'zod';

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export const RunStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatusSchema>;

/** The integers the file store writes as `status` in a run's meta.yaml (`RunStatus` in MLflow). */
export const RUN_STATUS_CODE: Readonly<Record<RunStatus, number>> = {
  RUNNING: 1,
  SCHEDULED: 2,
  FINISHED: 3,
  FAILED: 4,
  KILLED: 5,
};

/** Tags MLflow gives meaning to. */
export const MLFLOW_TAGS = {
  parentRunId: 'mlflow.parentRunId',
  runName: 'mlflow.runName',
  user: 'mlflow.user',
  source: 'mlflow.source.name',
  /** `LOCAL`, `NOTEBOOK`, `JOB`, `PROJECT`: what `mlflow.source.name` is. */
  sourceType: 'mlflow.source.type',
  /** The plain commit hash; the UI links it next to the source. */
  gitCommit: 'mlflow.source.git.commit',
  gitBranch: 'mlflow.source.git.branch',
  gitRepoUrl: 'mlflow.source.git.repoURL',
  note: 'mlflow.note.content',
  /** On a dataset input: `train`, `test`, … (the UI's dataset context). */
  datasetContext: 'mlflow.data.context',
} as const;

/** Any JS number: zod 4's `z.number()` refuses NaN and ±Infinity, which metrics must carry. */
export const MetricValueSchema = z.custom<number>(
  (v) => typeof v === 'number',
  'expected a number (NaN and ±Infinity allowed)',
);

const int64 = z.number().int();

export const MetricSchema = z.object({
  key: z.string(),
  value: MetricValueSchema,
  /** Milliseconds since the epoch, ≥ 0. */
  timestamp: int64.nonnegative(),
  step: int64,
  /**
   * MLflow 3: the logged model this value measures (`runs/log-batch` then records it on the model
   * too, and the UI's Models tab shows it); with the dataset it was measured on.
   */
  modelId: z.string().optional(),
  datasetName: z.string().optional(),
  datasetDigest: z.string().optional(),
});
export type Metric = z.infer<typeof MetricSchema>;

/** A param or a tag. */
export const KeyValueSchema = z.object({ key: z.string(), value: z.string() });
export type KeyValue = z.infer<typeof KeyValueSchema>;

export const ExperimentSchema = z.object({
  experimentId: z.string(),
  name: z.string(),
  artifactLocation: z.string(),
  lifecycleStage: z.string(),
  creationTime: z.number().optional(),
  lastUpdateTime: z.number().optional(),
  tags: z.record(z.string(), z.string()),
});
export type Experiment = z.infer<typeof ExperimentSchema>;

export const RunInfoSchema = z.object({
  runId: z.string(),
  runName: z.string(),
  experimentId: z.string(),
  userId: z.string(),
  status: RunStatusSchema,
  startTime: z.number(),
  endTime: z.number().optional(),
  artifactUri: z.string(),
  lifecycleStage: z.string(),
});
export type RunInfo = z.infer<typeof RunInfoSchema>;

export const RunDataSchema = z.object({
  /** The latest value of each metric: MLflow's largest (step, timestamp, value). */
  metrics: z.record(z.string(), MetricSchema),
  params: z.record(z.string(), z.string()),
  tags: z.record(z.string(), z.string()),
});
export type RunData = z.infer<typeof RunDataSchema>;

/**
 * A dataset as MLflow records it (`mlflow/entities/dataset.py`): `digest` identifies the content
 * (≤ 36 characters), `source` says where it lives (JSON, e.g. `{"uri": "/data/mvtec"}`),
 * `profile` summarises it (JSON). Two datasets are one when name and digest agree.
 */
export const DatasetSchema = z.strictObject({
  name: z.string().min(1).max(500),
  digest: z.string().min(1).max(36),
  sourceType: z.string().min(1),
  source: z.string().max(65_535),
  schema: z.string().optional(),
  profile: z.string().optional(),
});
export type Dataset = z.infer<typeof DatasetSchema>;

/** A dataset a run read, with the input's tags (`mlflow.data.context`: `train`, `test`). */
export const DatasetInputSchema = z.strictObject({
  dataset: DatasetSchema,
  tags: z.record(z.string().max(255), z.string().max(500)).default({}),
});
export type DatasetInput = z.infer<typeof DatasetInputSchema>;
export type DatasetInputRequest = z.input<typeof DatasetInputSchema>;

export const RunInputsSchema = z.object({ datasetInputs: z.array(DatasetInputSchema) });
export type RunInputs = z.infer<typeof RunInputsSchema>;

/** A logged model a run produced (`runs/outputs`), at a step. */
export const ModelOutputSchema = z.strictObject({ modelId: z.string().min(1), step: int64.nonnegative().default(0) });
export type ModelOutput = z.infer<typeof ModelOutputSchema>;

export const RunOutputsSchema = z.object({ modelOutputs: z.array(ModelOutputSchema) });
export type RunOutputs = z.infer<typeof RunOutputsSchema>;

export const RunSchema = z.object({
  info: RunInfoSchema,
  data: RunDataSchema,
  inputs: RunInputsSchema,
  outputs: RunOutputsSchema,
});
export type Run = z.infer<typeof RunSchema>;

export const BatchSchema = z.strictObject({
  metrics: z.array(MetricSchema).optional(),
  params: z.array(KeyValueSchema).optional(),
  tags: z.array(KeyValueSchema).optional(),
});
export type Batch = z.infer<typeof BatchSchema>;

export const CreateRunRequestSchema = z.strictObject({
  experimentId: z.string().min(1),
  /** Also written as the tag `mlflow.runName`, as MLflow keeps the two in sync. */
  runName: z.string().optional(),
  /** Milliseconds since the epoch; default now. */
  startTime: int64.nonnegative().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  /** Makes this a nested (child) run: nothing but the tag `mlflow.parentRunId`. */
  parentRunId: z.string().optional(),
  /** Default: the OS user, as MLflow's Python client does. */
  userId: z.string().optional(),
});
export type CreateRunRequest = z.infer<typeof CreateRunRequestSchema>;

export const UpdateRunRequestSchema = z.strictObject({
  runId: z.string().min(1),
  status: RunStatusSchema,
  endTime: int64.nonnegative().optional(),
  runName: z.string().optional(),
});
export type UpdateRunRequest = z.infer<typeof UpdateRunRequestSchema>;

export const SearchRunsRequestSchema = z.strictObject({
  experimentIds: z.array(z.string()),
  /** MLflow's filter syntax; the local stores understand `tags.k = 'v'`, `params.p != 'x'`, `metrics.m > 0.5`, `attributes.status = 'FINISHED'` (also run_name, run_id, start_time, end_time, user_id), `LIKE`/`ILIKE`, joined by AND. */
  filter: z.string().optional(),
  /** Per page; MLflow's default 1000, at most 50000. */
  maxResults: z.number().int().positive().max(50_000).optional(),
  /** e.g. `attributes.start_time DESC`, `metrics.loss ASC`. */
  orderBy: z.array(z.string()).optional(),
  pageToken: z.string().optional(),
});
export type SearchRunsRequest = z.infer<typeof SearchRunsRequestSchema>;

export const SearchRunsResultSchema = z.object({ runs: z.array(RunSchema), nextPageToken: z.string().optional() });
export type SearchRunsResult = z.infer<typeof SearchRunsResultSchema>;

export const ArtifactInfoSchema = z.object({
  /** Relative to the run's artifact root, '/'-separated. */
  path: z.string(),
  isDir: z.boolean(),
  /** Bytes, for files. */
  fileSize: z.number().optional(),
});
export type ArtifactInfo = z.infer<typeof ArtifactInfoSchema>;

/**
 * MLflow 3's LoggedModel (`service.proto`: LoggedModel, LoggedModelInfo, LoggedModelData): a model
 * in an experiment, with its own id (`m-<32 hex>`), artifacts (`<experiment artifacts>/models/<id>/artifacts`),
 * params, tags and the metrics logged against it (`runs/log-batch` with `model_id`), each with the
 * run and the dataset it was measured on. The UI's Models tab lists them.
 */
export const LOGGED_MODEL_STATUSES = ['PENDING', 'READY', 'UPLOAD_FAILED'] as const;
export const LoggedModelStatusSchema = z.enum(LOGGED_MODEL_STATUSES);
export type LoggedModelStatus = z.infer<typeof LoggedModelStatusSchema>;

export const LoggedModelMetricSchema = MetricSchema.extend({ runId: z.string().optional() });
export type LoggedModelMetric = z.infer<typeof LoggedModelMetricSchema>;

export const LoggedModelSchema = z.object({
  modelId: z.string(),
  experimentId: z.string(),
  name: z.string(),
  artifactUri: z.string(),
  status: LoggedModelStatusSchema,
  statusMessage: z.string().optional(),
  modelType: z.string().optional(),
  sourceRunId: z.string().optional(),
  creationTimestamp: z.number(),
  lastUpdatedTimestamp: z.number(),
  tags: z.record(z.string(), z.string()),
  params: z.record(z.string(), z.string()),
  /** The latest value of each metric per dataset (MLflow's largest (step, timestamp, value)). */
  metrics: z.array(LoggedModelMetricSchema),
});
export type LoggedModel = z.infer<typeof LoggedModelSchema>;

export const CreateLoggedModelRequestSchema = z.strictObject({
  experimentId: z.string().min(1),
  /** Default: a random name, as MLflow gives one. No '/', ':', '.', '%', '"' or "'" (MLflow's rule). */
  name: z.string().optional(),
  /** e.g. `anomaly-detector`: a user-defined kind to search and compare models by. */
  modelType: z.string().optional(),
  /** The run that produced it. */
  sourceRunId: z.string().optional(),
  params: z.record(z.string(), z.string()).optional(),
  tags: z.record(z.string(), z.string()).optional(),
});
export type CreateLoggedModelRequest = z.infer<typeof CreateLoggedModelRequestSchema>;

export const SearchLoggedModelsRequestSchema = z.strictObject({
  experimentIds: z.array(z.string()).min(1),
  /** e.g. `metrics.image_auroc > 0.9 AND params.method = 'cfa' AND name LIKE 'fleece%'`. */
  filter: z.string().optional(),
  /** Metric clauses (and a model's having metrics at all) only count values measured on these datasets. */
  datasets: z
    .array(z.strictObject({ datasetName: z.string().min(1), datasetDigest: z.string().optional() }))
    .optional(),
  /** Per page; MLflow's default 100. */
  maxResults: z.number().int().positive().optional(),
  /** Default: newest first (creation_timestamp DESC). */
  orderBy: z
    .array(
      z.strictObject({
        /** `metrics.<key>`, `params.<key>`, `tags.<key>` or an attribute (`name`, `creation_timestamp`, …). */
        fieldName: z.string().min(1),
        ascending: z.boolean().default(true),
        datasetName: z.string().optional(),
        datasetDigest: z.string().optional(),
      }),
    )
    .optional(),
  pageToken: z.string().optional(),
});
export type SearchLoggedModelsRequest = z.input<typeof SearchLoggedModelsRequestSchema>;

export interface SearchLoggedModelsResult {
  models: LoggedModel[];
  nextPageToken?: string;
}
