/**
 * `sync-runs`: two ways of getting runs to a tracking server after the fact.
 *
 * - Replay spools: send what a sweep spooled while the server was away (for example after the
 *   sweep process was killed, or its `--sync-timeout-s` ran out), in order and exactly once. Then
 *   say which sweep parent runs are still RUNNING without their table, and the exact command that
 *   builds it (the parent's `cfa.command`). A cell whose trained model could not become an MLflow
 *   logged model while the server was away (its folders stayed among the run's artifacts) gets it
 *   now, made from those folders, with its final metrics tied to it (tracking/cell-model.ts).
 * - `--from-store ./mlruns`: copy a local file store into the server — every experiment, run,
 *   param, metric history, tag, dataset input, artifact and logged model — idempotently (a second
 *   copy adds nothing). The way to move local runs into a current MLflow (3.13+), whose default store is
 *   SQLite.
 *
 * Exit codes: 0 done; 1 something was refused (credentials, a damaged local run, a changed param);
 * 3 writes are still spooled (the server did not answer within `--sync-timeout-s`).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import {
  copyStore,
  FileTrackingStore,
  MLFLOW_TAGS,
  MlflowError,
  replaySpool,
  RestTrackingStore,
  SPOOL_LOST_WRITES_TAG,
  type Run,
} from '@cfa/tracking';
import { nonNegativeInt } from './common-options';
import { createLogger, type Logger } from './logger';
import { addTrackingTimeoutOption, describeTracking } from './tracking-options';
import { CFA_TAGS, EVALUATION_METRIC_KEY_SET, FINAL_METRIC_KEYS } from '../tracking/tracked-cell';
import { modelFromRunArtifacts, runHoldsModel } from '../tracking/cell-model';
import { PARENT_TAGS } from '../sweep/sweep-runs';

interface SyncRunsOptions {
  trackingUri: string;
  fromStore?: string;
  breakLock?: boolean;
  syncTimeoutS: number;
  trackingTimeoutS: number;
}

export const SYNC_EXIT = { ok: 0, refused: 1, spoolLeft: 3 } as const;

export function syncRunsCommand(): Command {
  const command = new Command('sync-runs')
    .description(
      'replay spooled MLflow writes (.cache/spool/*.jsonl) to the tracking server, or copy a local store into it (--from-store)',
    )
    .argument('[spools...]', 'spool files (default: every file in .cache/spool)')
    .addOption(
      new Option('--tracking-uri <uri>', 'MLflow tracking server').env('MLFLOW_TRACKING_URI').makeOptionMandatory(),
    )
    .option('--from-store <dir>', 'copy this local MLflow file store (e.g. ./mlruns) into the server; idempotent')
    .option(
      '--break-lock',
      "take over a spool's lock even when its process seems alive (its pid reused by another program, or a machine that is gone)",
    )
    .option(
      '--sync-timeout-s <s>',
      'give up replaying after this long; what is left stays spooled (exit 3)',
      nonNegativeInt,
      900,
    );
  addTrackingTimeoutOption(command);
  return command.action(async (spools: string[], options: SyncRunsOptions) => {
    const log = createLogger();
    const deadlineMs = options.trackingTimeoutS * 1000;
    const server = new RestTrackingStore({ uri: options.trackingUri, deadlineMs, requestTimeoutMs: deadlineMs });
    log.info(`tracking server ${describeTracking(server, options.trackingTimeoutS)}`);
    try {
      process.exitCode = options.fromStore
        ? await copyLocalStore(options.fromStore, server, log)
        : await replaySpools(spools, server, options, log);
    } finally {
      await server.close();
    }
  });
}

async function copyLocalStore(dir: string, server: RestTrackingStore, log: Logger): Promise<number> {
  if (
    !(await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  )
    throw new Error(`--from-store ${dir}: no such folder (expected an MLflow file store such as ./mlruns)`);
  const from = new FileTrackingStore(dir);
  log.info(`copying the local store ${from.location} into ${server.location}`);
  const report = await copyStore({ from, to: server, onRun: (line) => log.info(line) });
  log.info(
    `${report.experiments} experiment(s); ${report.runsCreated} run(s) created, ${report.runsExisting} already there; ${report.params} param(s), ${report.tags} tag(s), ${report.metricPoints} metric point(s), ${report.inputs} dataset input(s), ${report.artifacts} artifact(s) sent; ${report.modelsCreated} logged model(s) created, ${report.modelsExisting} already there (${report.modelMetrics} model metric(s), ${report.modelArtifacts} model file(s) sent)`,
  );
  for (const s of report.skipped) log.warn(`not copied: ${s.what}: ${s.reason}`);
  return report.skipped.some((s) => s.reason !== 'deleted' && s.reason !== 'deleted in the local store')
    ? SYNC_EXIT.refused
    : SYNC_EXIT.ok;
}

async function replaySpools(
  spools: string[],
  server: RestTrackingStore,
  options: SyncRunsOptions,
  log: Logger,
): Promise<number> {
  const files = spools.length
    ? spools
    : (await readdir(join('.cache', 'spool')).catch(() => [] as string[]))
        .filter((f) => f.endsWith('.jsonl'))
        .map((f) => join('.cache', 'spool', f));
  const deadlineAt = Date.now() + options.syncTimeoutS * 1000;
  let incomplete = 0;
  let refused = 0;
  const touched = new Set<string>();
  for (const file of files) {
    if ((await stat(file)).size === 0) continue;
    const result = await replaySpool(file, server, {
      breakLock: options.breakLock,
      onEvent: (line) => log.warn(line),
      deadlineAt,
    });
    log.info(
      `${file}: ${result.delivered} delivered, ${result.duplicatesSkipped} metric points already there, ${result.failed.length} refused for good${result.complete ? '' : ` — ${result.remaining} write(s) stay spooled: the server did not take them within ${options.syncTimeoutS} s`}`,
    );
    for (const f of result.failed) log.warn(`entry ${f.seq}: ${f.error}`);
    for (const id of result.failedForLostWrites)
      log.warn(
        `run ${id} closed FAILED, not FINISHED: some of its writes were lost in damaged lines of ${file} (its tag ${SPOOL_LOST_WRITES_TAG} says which); run its sweep again to redo the cell`,
      );
    for (const id of result.runIds) touched.add(id);
    if (!result.complete) incomplete++;
    if (result.failed.length || result.unreadableLines || result.lost.length) refused++;
  }
  if (!files.length) log.info('nothing to sync');
  if (!incomplete) refused += await modelsFromRunArtifacts(server, [...touched], log);
  for (const line of await unfinishedSweeps(server, [...touched])) log.warn(line);
  return incomplete ? SYNC_EXIT.spoolLeft : refused ? SYNC_EXIT.refused : SYNC_EXIT.ok;
}

/**
 * The logged model of each FINISHED cell run among `runIds` that has none but holds its model's
 * folders among its artifacts (its model was trained while the server was away); how many failed.
 */
async function modelsFromRunArtifacts(server: RestTrackingStore, runIds: string[], log: Logger): Promise<number> {
  let failed = 0;
  for (const id of runIds) {
    const run = await server.getRun(id).catch(() => undefined);
    if (!run || run.info.status !== 'FINISHED' || !run.data.tags[CFA_TAGS.cellKey]) continue;
    if (run.outputs.modelOutputs.length || !(await runHoldsModel(server, id))) continue;
    try {
      const model = await modelFromRunArtifacts(server, run, FINAL_METRIC_KEYS, EVALUATION_METRIC_KEY_SET);
      log.info(`run ${id} (${run.info.runName}): its model is now logged model ${model.modelId} (${model.status})`);
    } catch (error) {
      failed++;
      log.warn(
        `run ${id} (${run.info.runName}): its model could not be made a logged model: ${(error as Error).message}`,
      );
    }
  }
  return failed;
}

/**
 * Sweep parent runs among (or above) the runs a replay wrote to that are still RUNNING: their
 * cells are delivered but their comparison table is not, and nothing else will build it.
 */
async function unfinishedSweeps(server: RestTrackingStore, runIds: string[]): Promise<string[]> {
  const parents = new Map<string, Run>();
  const get = (id: string) =>
    server.getRun(id).catch((e: unknown) => (e instanceof MlflowError ? undefined : Promise.reject(e)));
  for (const id of runIds) {
    const run = await get(id);
    const parentId = run?.data.tags[MLFLOW_TAGS.parentRunId];
    const parent = parentId ? await get(parentId) : run;
    if (parent && parent.data.tags[CFA_TAGS.sweep] && !parent.data.tags[MLFLOW_TAGS.parentRunId])
      parents.set(parent.info.runId, parent);
  }
  return [...parents.values()]
    .filter((p) => p.info.status === 'RUNNING')
    .map((p) => {
      const again =
        p.data.tags[PARENT_TAGS.command] ??
        `npx nx run experiments:${p.data.tags[CFA_TAGS.sweep]} -- <the options it ran with>`;
      return `the parent run ${p.info.runId} of sweep '${p.data.tags[CFA_TAGS.sweep]}' is still RUNNING: its cells are delivered, its comparison table is not built. Build it by running the sweep again (finished cells are reused): ${again}`;
    });
}
