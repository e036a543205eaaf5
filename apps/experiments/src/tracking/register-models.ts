/**
 * Trained models into MLflow's Model Registry, as teams use it: a run's (or a sweep cell's) logged
 * model becomes a version of a registered model (`source: models:/<model_id>`, as
 * `mlflow.register_model` sends it), its version tags say what it is and how it scored on its test
 * set, and an alias (`champion`) names the version to deploy — `predict --model models:/NAME@champion`.
 *
 * A sweep registers **every** finished cell's model as a version (the sweep's models side by side,
 * each tagged with its cell). Which one an alias names is never chosen silently: with a single
 * version it is that one; otherwise `--alias-best-on-test METRIC` picks the version whose model
 * scored highest on METRIC **on the test set** — a choice made with test labels, so the option says
 * so in its name and the version and its run are tagged with it (`cfa.alias.selection`); of equal
 * scores the first cell's wins. There is
 * no labelled held-out split in this setting (MVTec's train set is all normal), so no honest
 * "best on held-out data" exists to pick by.
 *
 * Registering is idempotent: a model already registered under the name keeps its version.
 *
 * @example
 * ```ts
 * const registry = new ModelRegistryClient({ uri, env: process.env });
 * const v = await registerLoggedModel(registry, { name: 'cfa-fleece', model, description: 'CFA on fleece' });
 * await registry.setAlias('cfa-fleece', 'champion', v.version);
 * ```
 */
import {
  type LoggedModel,
  MLFLOW_TAGS,
  type ModelRegistryClient,
  type ModelVersion,
  registerModelVersion,
  type Run,
  searchAllRuns,
  type TrackingStore,
} from '@cfa/tracking';
import { CFA_TAGS, EVALUATION_METRIC_KEY_SET } from './tracked-cell';

/** On a registered version and its run: how an alias chose it (`champion best-on-test:image_auroc`). */
export const ALIAS_SELECTION_TAG = 'cfa.alias.selection';

/** Why `--alias` / `--alias-best-on-test` cannot work as given (undefined: they can). */
export function aliasProblem(options: { register?: string; alias?: string; aliasBestOnTest?: string }) {
  if (options.alias !== undefined && options.register === undefined) return '--alias needs --register NAME';
  if (options.aliasBestOnTest !== undefined && options.alias === undefined) return '--alias-best-on-test needs --alias';
  if (
    options.alias !== undefined &&
    (/^v\d+$/i.test(options.alias) || /^latest$/i.test(options.alias) || !options.alias)
  )
    return `--alias '${options.alias}': MLflow reserves 'latest' and 'v<number>'`;
  if (options.aliasBestOnTest !== undefined && !EVALUATION_METRIC_KEY_SET.has(options.aliasBestOnTest))
    return `--alias-best-on-test '${options.aliasBestOnTest}': expected one of ${[...EVALUATION_METRIC_KEY_SET].join(', ')}`;
  return undefined;
}

/** The version tags of a model: its cell, method, backbone, category and its test metrics. */
function versionTags(model: LoggedModel): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const key of [CFA_TAGS.method, CFA_TAGS.backbone, CFA_TAGS.category, CFA_TAGS.cellKey, CFA_TAGS.sweep])
    if (model.tags[key] !== undefined) tags[key] = model.tags[key];
  for (const m of model.metrics)
    if (EVALUATION_METRIC_KEY_SET.has(m.key) && Number.isFinite(m.value)) tags[m.key] = String(m.value);
  const test = model.metrics.find((m) => m.datasetName);
  if (test) tags['cfa.test_dataset'] = `${test.datasetName}@${test.datasetDigest}`;
  return tags;
}

/** A logged model as a version of `name` (the registered model made the first time); an existing version of it is kept. */
export async function registerLoggedModel(
  registry: ModelRegistryClient,
  request: { name: string; model: LoggedModel; description: string },
): Promise<{ version: ModelVersion; created: boolean }> {
  const { name, model } = request;
  const existing = await registry.searchModelVersions(name).catch(() => [] as ModelVersion[]);
  const found = existing.find((v) => v.modelId === model.modelId);
  if (found) return { version: found, created: false };
  const version = await registerModelVersion(registry, {
    name,
    source: `models:/${model.modelId}`,
    modelId: model.modelId,
    ...(model.sourceRunId ? { runId: model.sourceRunId } : {}),
    description: request.description,
    tags: versionTags(model),
  });
  return { version, created: true };
}

/** The logged model a finished run produced (its last output), when it is READY. */
export async function readyModelOf(store: TrackingStore, run: Run): Promise<LoggedModel | undefined> {
  const output = run.outputs.modelOutputs.at(-1);
  if (!output) return undefined;
  const model = await store.getLoggedModel(output.modelId);
  return model.status === 'READY' ? model : undefined;
}

export interface SweepRegistration {
  name: string;
  versions: { cell: string; version: string; created: boolean; modelId: string }[];
  /** Cells whose model could not be registered, with why. */
  skipped: { cell: string; reason: string }[];
  alias?: { alias: string; version: string; cell: string; selection: string };
}

/**
 * Every FINISHED cell of a sweep's parent run, registered as a version of `name`; `alias` points
 * at the only version, or — with `aliasBestOnTest` — at the version whose model scored highest on
 * that test metric (tagged so on the version and its run).
 */
export async function registerSweepModels(options: {
  store: TrackingStore;
  registry: ModelRegistryClient;
  experimentId: string;
  parentRunId: string;
  sweepName: string;
  name: string;
  alias?: string;
  aliasBestOnTest?: string;
}): Promise<SweepRegistration> {
  const { store, registry, name } = options;
  const cells = (
    await searchAllRuns(store, {
      experimentIds: [options.experimentId],
      filter: `tags.\`${MLFLOW_TAGS.parentRunId}\` = '${options.parentRunId}'`,
    })
  )
    .filter((r) => r.info.status === 'FINISHED')
    .sort((a, b) => a.info.startTime - b.info.startTime);
  const out: SweepRegistration = { name, versions: [], skipped: [] };
  const scored: { version: string; cell: string; runId: string; value: number }[] = [];
  for (const run of cells) {
    const cell = run.info.runName;
    const model = await readyModelOf(store, run);
    if (!model) {
      out.skipped.push({
        cell,
        reason: run.data.tags[CFA_TAGS.loggedModelError]
          ? `its model is not a logged model yet (${run.data.tags[CFA_TAGS.loggedModelError].split('\n')[0]}): run sync-runs, then this sweep again`
          : 'it has no READY logged model (model outputs none?)',
      });
      continue;
    }
    const { version, created } = await registerLoggedModel(registry, {
      name,
      model,
      description: `${cell} (sweep ${options.sweepName})`,
    });
    out.versions.push({ cell, version: version.version, created, modelId: model.modelId });
    const metric = options.aliasBestOnTest ? model.metrics.find((m) => m.key === options.aliasBestOnTest) : undefined;
    if (metric && Number.isFinite(metric.value))
      scored.push({ version: version.version, cell, runId: run.info.runId, value: metric.value });
  }
  if (!options.alias) return out;
  let chosen: { version: string; cell: string; runId?: string } | undefined;
  let selection: string;
  if (options.aliasBestOnTest) {
    chosen = scored.reduce<(typeof scored)[number] | undefined>((a, b) => (!a || b.value > a.value ? b : a), undefined);
    selection = `best-on-test:${options.aliasBestOnTest}`;
  } else {
    if (out.versions.length !== 1)
      throw new Error(
        `--alias ${options.alias}: ${out.versions.length} versions were registered; say which one the alias names with --alias-best-on-test <metric>`,
      );
    chosen = out.versions[0];
    selection = 'the only version';
  }
  if (!chosen)
    throw new Error(`--alias ${options.alias}: no registered version has a finite ${options.aliasBestOnTest}`);
  await registry.setAlias(name, options.alias, chosen.version);
  await registry.setModelVersionTag(name, chosen.version, ALIAS_SELECTION_TAG, `${options.alias} ${selection}`);
  if (chosen.runId) await store.setTag(chosen.runId, ALIAS_SELECTION_TAG, `${name}@${options.alias} ${selection}`);
  out.alias = { alias: options.alias, version: chosen.version, cell: chosen.cell, selection };
  return out;
}
