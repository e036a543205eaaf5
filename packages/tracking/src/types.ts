/**
 * MLflow's tracking entities as this client uses them (MLflow REST API 2.0, camelCased).
 */

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** The integers the file store writes in meta.yaml. */
export const RUN_STATUS_CODE: Record<RunStatus, number> = { RUNNING: 1, SCHEDULED: 2, FINISHED: 3, FAILED: 4, KILLED: 5 };

export interface Metric {
  key: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface Experiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: string;
  creationTime?: number;
  lastUpdateTime?: number;
  tags: Record<string, string>;
}

export interface RunInfo {
  runId: string;
  runName: string;
  experimentId: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime?: number;
  artifactUri: string;
  lifecycleStage: string;
}

export interface RunData {
  /** Latest value of each metric. */
  metrics: Record<string, Metric>;
  params: Record<string, string>;
  tags: Record<string, string>;
}

export interface Run {
  info: RunInfo;
  data: RunData;
}

export interface Batch {
  metrics?: Metric[];
  params?: KeyValue[];
  tags?: KeyValue[];
}

export interface CreateRunRequest {
  experimentId: string;
  runName?: string;
  startTime?: number;
  tags?: Record<string, string>;
  /** Makes this a nested (child) run: the tag `mlflow.parentRunId`. */
  parentRunId?: string;
  userId?: string;
}

export interface UpdateRunRequest {
  runId: string;
  status: RunStatus;
  endTime?: number;
  runName?: string;
}

export interface SearchRunsRequest {
  experimentIds: string[];
  /** MLflow filter syntax, subset: `tags.k = 'v'`, `params.p != 'x'`, `metrics.m > 0.5`, `attributes.status = 'FINISHED'`, joined by AND. */
  filter?: string;
  maxResults?: number;
  /** e.g. `attributes.start_time DESC`, `metrics.loss ASC`. */
  orderBy?: string[];
  pageToken?: string;
}

export interface SearchRunsResult {
  runs: Run[];
  nextPageToken?: string;
}

export interface ArtifactInfo {
  path: string;
  isDir: boolean;
  fileSize?: number;
}

/** Tags MLflow gives meaning to. */
export const MLFLOW_TAGS = {
  parentRunId: 'mlflow.parentRunId',
  runName: 'mlflow.runName',
  user: 'mlflow.user',
  source: 'mlflow.source.name',
  gitCommit: 'mlflow.source.git.commit',
  note: 'mlflow.note.content',
} as const;
