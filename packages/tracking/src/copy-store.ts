/**
 * A local file store copied into any tracking store — typically an MLflow server on SQLite, which
 * is what current MLflow (3.13+) opens by default. Every active experiment (by name, with its tags
 * when it is new), run (name, user, start and end time, status, parent link remapped to the new
 * ids), param, metric history, tag, dataset input and artifact — and MLflow 3's logged models:
 * each with its name, type, params, tags, artifacts and status, linked to the copy of its run as
 * an output, its metrics logged through that run with the model and dataset they were measured on
 * (so the Models tab of the server shows them as the local `mlflow ui` does).
 *
 * Idempotent: each copy carries the tag `cfa.sync.source_run_id` (a model:
 * `cfa.sync.source_model_id`) with the id it was copied from, and a second copy — or one after an interrupted first — adds only what is missing: runs not
 * there yet, params not set, tags that differ, metric points not in the history (same key, step,
 * timestamp and value), inputs not logged, artifacts that are missing or of another size. The
 * status is set last, so an interrupted copy leaves the run RUNNING until the copy that completes it.
 *
 * Runs the reader cannot read (a damaged meta.yaml or metric file) are reported by file in
 * `skipped` and the rest is copied.
 *
 * @example
 * ```ts
 * const report = await copyStore({ from: new FileTrackingStore('./mlruns'), to: new RestTrackingStore({ uri }) });
 * console.log(`${report.runsCreated} runs created, ${report.metricPoints} metric points sent`);
 * ```
 */
import type { ArtifactInfo, LoggedModel, Metric, Run } from './entities';
import { MLFLOW_TAGS } from './entities';
import { MlflowCorruptStoreError, MlflowParamConflictError } from './errors';
import type { FileTrackingStore } from './file-store';
import { searchAllLoggedModels, searchAllRuns, type TrackingStore } from './tracking-store';

/** The tag a copied run carries: the id of the run it was copied from. */
export const COPY_SOURCE_TAG = 'cfa.sync.source_run_id';
/** The tag a copied logged model carries: the id of the model it was copied from. */
export const COPY_SOURCE_MODEL_TAG = 'cfa.sync.source_model_id';

export interface CopyStoreOptions {
  from: FileTrackingStore;
  to: TrackingStore;
  /** A line per run copied, for progress. */
  onRun?: (line: string) => void;
}

export interface CopyStoreReport {
  experiments: number;
  runsCreated: number;
  /** Runs that existed in the target and got what they missed (or nothing). */
  runsExisting: number;
  params: number;
  tags: number;
  metricPoints: number;
  inputs: number;
  artifacts: number;
  /** Logged models made in the target, and those that were there and got what they missed. */
  modelsCreated: number;
  modelsExisting: number;
  /** Metric values logged against the copied models (each also lands in its run's history). */
  modelMetrics: number;
  modelArtifacts: number;
  /** Runs (or experiments) left out: deleted ones, unreadable ones (with the file), conflicting params. */
  skipped: { what: string; reason: string }[];
}

const pointKey = (m: Metric) => `${m.key}|${m.step}|${m.timestamp}|${m.value}`;

/** Parents before their children, so that a child's parent link can name the parent's new id. */
function parentsFirst(runs: Run[]): Run[] {
  const byId = new Map(runs.map((r) => [r.info.runId, r]));
  const out: Run[] = [];
  const placed = new Set<string>();
  const place = (run: Run, depth = 0) => {
    if (placed.has(run.info.runId) || depth > runs.length) return;
    const parent = byId.get(run.data.tags[MLFLOW_TAGS.parentRunId] ?? '');
    if (parent) place(parent, depth + 1);
    placed.add(run.info.runId);
    out.push(run);
  };
  for (const run of [...runs].sort((a, b) => a.info.startTime - b.info.startTime)) place(run);
  return out;
}

/** Every file a listing reaches, folders followed. */
async function filesUnder(list: (path: string) => Promise<ArtifactInfo[]>, path = ''): Promise<ArtifactInfo[]> {
  const out: ArtifactInfo[] = [];
  for (const entry of await list(path)) {
    if (entry.isDir) out.push(...(await filesUnder(list, entry.path)));
    else out.push(entry);
  }
  return out;
}

const modelPointKey = (m: Metric) =>
  `${m.key}|${m.datasetName ?? ''}|${m.datasetDigest ?? ''}|${m.step}|${m.timestamp}|${m.value}`;

export async function copyStore(options: CopyStoreOptions): Promise<CopyStoreReport> {
  const { from, to } = options;
  const report: CopyStoreReport = {
    experiments: 0,
    runsCreated: 0,
    runsExisting: 0,
    params: 0,
    tags: 0,
    metricPoints: 0,
    inputs: 0,
    artifacts: 0,
    modelsCreated: 0,
    modelsExisting: 0,
    modelMetrics: 0,
    modelArtifacts: 0,
    skipped: [],
  };
  /** Source logged models, and what their copies are in the target. */
  const models: { model: LoggedModel; experimentId: string }[] = [];
  const modelCopies = new Map<string, LoggedModel>();
  const sources: { run: Run; experimentId: string }[] = [];
  const copies = new Map<string, Run>();
  const unreadable = (error: MlflowCorruptStoreError) =>
    report.skipped.push({ what: 'an experiment and its runs', reason: error.message });
  for (const experiment of await from.listExperiments(unreadable)) {
    if (experiment.lifecycleStage !== 'active') {
      report.skipped.push({ what: `experiment '${experiment.name}'`, reason: 'deleted in the local store' });
      continue;
    }
    const experimentId = await to.getOrCreateExperiment(experiment.name, experiment.tags);
    report.experiments++;
    for (const copy of await searchAllRuns(to, { experimentIds: [experimentId] })) {
      const source = copy.data.tags[COPY_SOURCE_TAG];
      if (source) copies.set(source, copy);
    }
    for (const copy of await searchAllLoggedModels(to, { experimentIds: [experimentId] })) {
      const source = copy.tags[COPY_SOURCE_MODEL_TAG];
      if (source) modelCopies.set(source, copy);
    }
    for (const modelId of await from.loggedModelIds(experiment.experimentId)) {
      try {
        models.push({ model: await from.getLoggedModel(modelId), experimentId });
      } catch (error) {
        if (!(error instanceof MlflowCorruptStoreError)) throw error;
        report.skipped.push({ what: `logged model ${modelId}`, reason: error.message });
      }
    }
    for (const runId of await from.runIds(experiment.experimentId)) {
      try {
        const run = await from.getRun(runId);
        if (run.info.lifecycleStage !== 'active') report.skipped.push({ what: `run ${runId}`, reason: 'deleted' });
        else sources.push({ run, experimentId });
      } catch (error) {
        if (!(error instanceof MlflowCorruptStoreError)) throw error;
        report.skipped.push({ what: `run ${runId}`, reason: error.message });
      }
    }
  }
  const experimentOf = new Map(sources.map((s) => [s.run.info.runId, s.experimentId]));
  const newIds = new Map<string, string>();
  /** The copy of a source model, made the first time it is needed (its run's copy named when known). */
  const modelCopy = async ({ model, experimentId }: (typeof models)[number]): Promise<LoggedModel> => {
    const there = modelCopies.get(model.modelId);
    if (there) return there;
    const sourceRunId = model.sourceRunId ? newIds.get(model.sourceRunId) : undefined;
    const made = await to.createLoggedModel({
      experimentId,
      name: model.name,
      ...(model.modelType ? { modelType: model.modelType } : {}),
      ...(sourceRunId ? { sourceRunId } : {}),
      params: model.params,
      tags: { ...model.tags, [COPY_SOURCE_MODEL_TAG]: model.modelId },
    });
    report.modelsCreated++;
    modelCopies.set(model.modelId, made);
    return made;
  };
  const existingModels = new Set(modelCopies.keys());
  /** The models a run logged values for, or that it produced. */
  const modelsOfRun = (run: Run) =>
    models.filter(
      ({ model }) =>
        model.sourceRunId === run.info.runId ||
        model.metrics.some((m) => m.runId === run.info.runId) ||
        run.outputs.modelOutputs.some((o) => o.modelId === model.modelId),
    );
  for (const run of parentsFirst(sources.map((s) => s.run))) {
    const sourceId = run.info.runId;
    const sourceParent = run.data.tags[MLFLOW_TAGS.parentRunId];
    const parentRunId = sourceParent ? (newIds.get(sourceParent) ?? sourceParent) : undefined;
    let target = copies.get(sourceId);
    const tags: Record<string, string> = { ...run.data.tags, [COPY_SOURCE_TAG]: sourceId };
    delete tags[MLFLOW_TAGS.parentRunId];
    if (!target) {
      const { [MLFLOW_TAGS.runName]: _name, ...createTags } = tags;
      target = await to.createRun({
        experimentId: experimentOf.get(sourceId)!,
        runName: run.info.runName || undefined,
        startTime: run.info.startTime,
        userId: run.info.userId,
        tags: createTags,
        ...(parentRunId ? { parentRunId } : {}),
      });
      report.runsCreated++;
    } else report.runsExisting++;
    const targetId = target.info.runId;
    newIds.set(sourceId, targetId);

    const params = Object.entries(run.data.params)
      .filter(([k, v]) => target.data.params[k] !== v)
      .map(([key, value]) => ({ key, value }));
    const conflicting = params.filter((p) => target.data.params[p.key] !== undefined);
    for (const p of conflicting)
      report.skipped.push({
        what: `param '${p.key}' of run ${sourceId}`,
        reason: `the copy ${targetId} has '${target.data.params[p.key]}', the local store '${p.value}'`,
      });
    const newTags = Object.entries(tags)
      .filter(([k, v]) => target.data.tags[k] !== v && k !== MLFLOW_TAGS.runName)
      .map(([key, value]) => ({ key, value }));
    const fresh = params.filter((p) => target.data.params[p.key] === undefined);
    try {
      await to.logBatch(targetId, { params: fresh, tags: newTags });
    } catch (error) {
      if (!(error instanceof MlflowParamConflictError)) throw error;
      report.skipped.push({ what: `params of run ${sourceId}`, reason: error.message });
      await to.logBatch(targetId, { tags: newTags });
    }
    report.params += fresh.length;
    report.tags += newTags.length;

    // models first: a value logged against a model lands in the run's history too, so the
    // run's own metrics below then find it there and do not send it twice
    for (const source of modelsOfRun(run)) {
      const copy = await modelCopy(source);
      const have = new Set(copy.metrics.map(modelPointKey));
      const missing = source.model.metrics
        .filter((m) => (m.runId ?? source.model.sourceRunId) === sourceId && !have.has(modelPointKey(m)))
        .map(({ runId: _runId, ...m }) => ({ ...m, modelId: copy.modelId }));
      if (missing.length) await to.logBatch(targetId, { metrics: missing });
      report.modelMetrics += missing.length;
    }
    const outputs = run.outputs.modelOutputs.flatMap((o) => {
      const copy = modelCopies.get(o.modelId);
      return copy ? [{ modelId: copy.modelId, step: o.step }] : [];
    });
    if (outputs.length) await to.logOutputs(targetId, outputs);

    for (const key of Object.keys(run.data.metrics)) {
      const have = new Set((await to.getMetricHistory(targetId, key)).map(pointKey));
      const missing = (await from.getMetricHistory(sourceId, key)).filter((m) => !have.has(pointKey(m)));
      if (missing.length) await to.logBatch(targetId, { metrics: missing });
      report.metricPoints += missing.length;
    }

    const targetInputs = new Set(target.inputs.datasetInputs.map((d) => `${d.dataset.name}|${d.dataset.digest}`));
    const inputs = run.inputs.datasetInputs.filter((d) => !targetInputs.has(`${d.dataset.name}|${d.dataset.digest}`));
    if (inputs.length) await to.logInputs(targetId, inputs);
    report.inputs += inputs.length;

    const there = new Map((await filesUnder((p) => to.listArtifacts(targetId, p))).map((a) => [a.path, a.fileSize]));
    for (const file of await filesUnder((p) => from.listArtifacts(sourceId, p))) {
      if (there.get(file.path) === file.fileSize) continue;
      await to.logArtifact(targetId, file.path, await from.downloadArtifact(sourceId, file.path));
      report.artifacts++;
    }

    if (target.info.status !== run.info.status || target.info.endTime !== run.info.endTime)
      await to.updateRun({
        runId: targetId,
        status: run.info.status,
        ...(run.info.endTime !== undefined ? { endTime: run.info.endTime } : {}),
      });
    options.onRun?.(
      `${run.info.runName || sourceId} → ${targetId} (${copies.has(sourceId) ? 'completed' : 'created'}, ${run.info.status})`,
    );
  }
  for (const source of models) {
    const copy = await modelCopy(source);
    if (existingModels.has(source.model.modelId)) report.modelsExisting++;
    const id = copy.modelId;
    const there = new Map(
      (await filesUnder((p) => to.listLoggedModelArtifacts(id, p))).map((a) => [a.path, a.fileSize]),
    );
    for (const file of await filesUnder((p) => from.listLoggedModelArtifacts(source.model.modelId, p))) {
      if (there.get(file.path) === file.fileSize) continue;
      await to.logLoggedModelArtifact(
        id,
        file.path,
        await from.downloadLoggedModelArtifact(source.model.modelId, file.path),
      );
      report.modelArtifacts++;
    }
    // the status last, as a run's: an interrupted copy leaves the model PENDING until one completes it
    if (source.model.status !== 'PENDING' && copy.status !== source.model.status)
      await to.finalizeLoggedModel(id, source.model.status);
  }
  return report;
}
