/**
 * `sweep <file>`: run a declarative sweep (experiments/*.yaml) — validate, expand, run the missing
 * cells (in process, or as jobs on a queue), log everything to MLflow, print the paper-style table.
 *
 * Every cell's trained model is an MLflow 3 logged model (the Models tab lists them with their test
 * metrics); `--register NAME` makes each finished cell's model a version of NAME in the Model
 * Registry, and `--alias A` names one of them (the only one, or `--alias-best-on-test METRIC`'s
 * pick — chosen on the test set, so named and tagged so): tracking/register-models.ts.
 *
 * Exit codes: 0 all cells finished and logged; 1 a cell failed, or the tracking server refused
 * the credentials or could not be reached at the start (nothing run); 2 a bad sweep file or
 * registry options that cannot work (nothing run or logged); 3 every cell ran but writes are left
 * in the spool (`sync-runs` delivers them; registration waits for a run after that).
 * `npx cfa sweep …` returns these; `npx nx run experiments:<sweep>` turns every failure into 1.
 */
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { DiskEmbeddingCache } from '@cfa/method-kit';
import { checkOutputFolder } from '@cfa/io';
import {
  createTrackingStore,
  MlflowUnavailableError,
  ModelRegistryClient,
  redactUri,
  SpoolingTrackingStore,
  systemMetricsEnabled,
  type TrackingStore,
} from '@cfa/tracking';
import { aliasProblem, registerSweepModels } from '../tracking/register-models';
import { ALL_SYNTHETIC_CATEGORIES, categoryKind } from '@cfa/data';
import { addEngineOptions, nonNegativeInt, positiveInt, engineFromOptions, type EngineOptions } from './common-options';
import { addTrackingTimeoutOption, describeTracking, rerunCommand } from './tracking-options';
import { checkLocalTrackingStore } from '../tracking/local-store-check';
import { createLogger, createPhaseProgress } from './logger';
import { loadSweep, MAX_CELLS, type SweepOverrides } from '../sweep/load-sweep';
import { SweepError } from '../sweep/expand-sweep';
import { openSweepParent, RESUME_POLICIES, type ResumePolicy, sweepKey } from '../sweep/sweep-runs';
import { runSweepLocally } from '../sweep/run-sweep-local';
import { finishSweep } from '../sweep/finish-sweep';
import type { CellRow } from '../report/aggregate-cells';
import { closeQueue, connectCellQueue, REDIS_TIMEOUT_S, RedisUnreachableError } from '../queue/cell-queue';
import { CFA_TAGS } from '../tracking/tracked-cell';
import { sweepPlan } from '../report/sweep-plan';

/** The sweep's exit codes (see the file header). */
export const EXIT = { ok: 0, failed: 1, badSweepFile: 2, spoolLeft: 3 } as const;

export interface SweepCliOptions extends EngineOptions {
  dryRun?: boolean;
  dataRoot?: string;
  categories?: string;
  seeds?: string;
  epochs?: number;
  weights?: string;
  backbone?: string;
  modelOutputs?: string;
  trackingUri?: string;
  featureCache: string;
  out?: string;
  executor: 'local' | 'queue';
  syncTimeoutS: number;
  trackingTimeoutS: number;
  resume: ResumePolicy;
  fresh?: boolean;
  redis?: string;
  redisTimeoutS: number;
  maxCells: number;
  register?: string;
  alias?: string;
  aliasBestOnTest?: string;
  systemMetrics?: boolean;
}

const list = (v?: string) =>
  v
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * A comma-separated option as its items: an empty one (`--categories ""`) and a repeated item are
 * the option's fault, said so here — not blamed on the sweep file whose list it replaces.
 */
function listOption(option: string, value: string | undefined, what: string): string[] | undefined {
  if (value === undefined) return undefined;
  const items = list(value)!;
  if (!items.length) throw new Error(`${option}: expected a comma-separated list of ${what}, got '${value}'`);
  const twice = items.find((item, i) => items.indexOf(item) !== i);
  if (twice !== undefined) throw new Error(`${option}: '${twice}' is listed twice (its cells would run twice)`);
  return items;
}

/** `--categories all` means every category under the data root, as `categories: all` in a file does. */
function categoriesOverride(value?: string): SweepOverrides['categories'] {
  return value?.trim().toLowerCase() === 'all' ? 'all' : listOption('--categories', value, "categories (or 'all')");
}

function seedsOverride(value?: string): number[] | undefined {
  return listOption('--seeds', value, 'seeds')?.map((s) => {
    if (!/^\d+$/.test(s)) throw new Error(`--seeds: expected non-negative integers, got '${s}'`);
    return Number(s);
  });
}

export function sweepOverrides(o: SweepCliOptions): SweepOverrides {
  return {
    dataRoot: o.dataRoot,
    categories: categoriesOverride(o.categories),
    seeds: seedsOverride(o.seeds),
    epochs: o.epochs,
    weights: o.weights,
    backbone: o.backbone,
    ...(o.modelOutputs !== undefined ? { model: modelOutputs(o.modelOutputs) } : {}),
  };
}

/** `--model-outputs bundle,mlflow | bundle | mlflow | none` → the sweep file's `model`. */
export function modelOutputs(value: string): { bundle: boolean; mlflow: boolean } {
  const parts = list(value) ?? [];
  const unknown = parts.filter((p) => !['bundle', 'mlflow', 'none'].includes(p));
  if (unknown.length || parts.length === 0 || (parts.includes('none') && parts.length > 1))
    throw new Error(`--model-outputs: expected 'bundle', 'mlflow', 'bundle,mlflow' or 'none', got '${value}'`);
  return { bundle: parts.includes('bundle'), mlflow: parts.includes('mlflow') };
}

export function addSweepOptions(command: Command): Command {
  command
    .option(
      '--dry-run',
      'print what would run — data, seeds, the resolved base config, every cell, the table layout with the paper numbers — and run and log nothing',
    )
    .option('--data-root <dir>', 'MVTec AD folder (default: the embedded synthetic dataset)')
    .option('--categories <list>', "comma-separated categories, or 'all'")
    .option('--seeds <list>', 'comma-separated seeds')
    .option('--epochs <n>', 'training epochs for every cell', nonNegativeInt)
    .option(
      '--max-cells <n>',
      'refuse a sweep that expands to more cells than this (each cell is a training run; counted before anything is expanded)',
      positiveInt,
      MAX_CELLS,
    )
    .option('--weights <file>', 'backbone weight file for every cell (torchvision names)')
    .option('--backbone <name>', 'backbone for every cell (overrides the file, not its axes)')
    .option(
      '--model-outputs <list>',
      "what each cell writes and logs of its trained model: 'bundle', 'mlflow' (the ONNX export as an MLflow Model), both (default) or 'none'",
    )
    .addOption(
      new Option('--tracking-uri <uri>', 'MLflow tracking server (default: local store ./mlruns)').env(
        'MLFLOW_TRACKING_URI',
      ),
    )
    .option('--feature-cache <dir>', 'backbone features cache, shared by cells and runs', '.cache/embeddings')
    .option('--out <dir>', 'local outputs (default runs/<sweep>)')
    .addOption(
      new Option('--executor <kind>', 'run cells here, or as jobs for workers on a queue')
        .choices(['local', 'queue'])
        .default('local'),
    )
    .option('--redis <url>', 'Redis for --executor queue', process.env.CFA_REDIS_URL ?? 'redis://127.0.0.1:6379')
    .option(
      '--redis-timeout-s <s>',
      'with --executor queue: how long Redis may take to answer (at the start: nothing is run or logged; later: the sweep stops and its parent run is closed FAILED)',
      positiveInt,
      REDIS_TIMEOUT_S,
    )
    .option(
      '--sync-timeout-s <s>',
      'after the cells, how long to wait for an unreachable tracking server before exiting with 3 (writes stay spooled)',
      nonNegativeInt,
      900,
    )
    .addOption(
      new Option(
        '--resume <policy>',
        'which finished cells a re-run keeps: those computed by this code (a hash of the sources that compute results), or any',
      )
        .choices([...RESUME_POLICIES])
        .default('same-code'),
    )
    .option('--fresh', 'start a new parent run: nothing finished before is reused')
    .option(
      '--register <name>',
      "register every finished cell's logged model as a version of this registered model (needs an MLflow server; a model registered before keeps its version)",
    )
    .option(
      '--alias <alias>',
      'with --register: point this alias (e.g. champion) at a version — the only one, or the one --alias-best-on-test picks',
    )
    .option(
      '--alias-best-on-test <metric>',
      'with --alias: the version whose model scored highest on this metric ON THE TEST SET (image_auroc, pixel_auroc, pixel_aupro, …); a choice made with test labels, tagged cfa.alias.selection on the version and its run',
    )
    .option(
      '--system-metrics',
      "log MLflow's system metrics (CPU, memory, disk, network, GPU) every 10 s while each cell computes (default: MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING, else off)",
      systemMetricsEnabled(),
    );
  addTrackingTimeoutOption(command);
  return addEngineOptions(command);
}

export async function runSweepCommand(file: string, options: SweepCliOptions): Promise<void> {
  const log = createLogger();
  let loaded;
  try {
    loaded = await loadSweep(file, sweepOverrides(options), { maxCells: options.maxCells });
  } catch (error) {
    if (error instanceof SweepError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = EXIT.badSweepFile;
      return;
    }
    throw error;
  }
  const { sweep, cells } = loaded;
  // what --register / --alias need, found before anything runs
  const registryProblem =
    aliasProblem(options) ??
    (options.register !== undefined && !/^https?:\/\//i.test(options.trackingUri ?? '')
      ? 'the Model Registry is an MLflow server API: pass --tracking-uri http://… (or set MLFLOW_TRACKING_URI)'
      : options.register !== undefined && cells.every((c) => !c.config.model.bundle && !c.config.model.mlflow)
        ? 'the cells write no model (--model-outputs none)'
        : options.alias !== undefined && options.aliasBestOnTest === undefined && cells.length > 1
          ? `the sweep has ${cells.length} cells, so ${cells.length} versions: say which one the alias names with --alias-best-on-test <metric> (a pick on the test set, tagged as such)`
          : undefined);
  if (registryProblem) {
    process.stderr.write(`error: --register ${options.register ?? ''}: ${registryProblem}\n`);
    process.exitCode = EXIT.badSweepFile;
    return;
  }
  const outRoot = options.out ?? join('runs', sweep.name);
  // output folders are checked before anything runs (and in a dry run: it creates nothing)
  await checkOutputFolder(outRoot, options.out ? '--out' : 'the output folder');
  if (options.executor === 'local') await checkOutputFolder(options.featureCache, '--feature-cache');
  if (options.dryRun) {
    const kinds = new Map<string, CellRow['kind']>();
    for (const category of new Set(cells.map((c) => c.category)))
      kinds.set(
        category,
        sweep.dataRoot
          ? await categoryKind(sweep.dataRoot, category)
          : (ALL_SYNTHETIC_CATEGORIES.find((c) => c.name === category)?.kind ?? 'unknown'),
      );
    process.stdout.write(sweepPlan({ loaded, sweepKey: sweepKey(loaded), kinds }));
    return;
  }
  // Redis first: one that does not answer must not leave a parent run behind
  const connected =
    options.executor === 'queue'
      ? await connectCellQueue(options.redis!, { timeoutS: options.redisTimeoutS, log: log.warn }).catch(
          (error: unknown) => {
            throw error instanceof RedisUnreachableError
              ? new Error(`${error.message}. Nothing was run or logged.`)
              : error;
          },
        )
      : undefined;
  const deadlineMs = options.trackingTimeoutS * 1000;
  const store = createTrackingStore({
    uri: options.trackingUri,
    spoolPath: join('.cache', 'spool', `${sweep.name}-${sweepKey(loaded)}.jsonl`),
    onEvent: (line) => log.warn(line),
    rest: { deadlineMs, requestTimeoutMs: deadlineMs },
  });
  await checkLocalTrackingStore(store).catch(async (error: unknown) => {
    if (connected) await closeQueue(connected.queue);
    throw error;
  });
  log.info(`${sweep.name}: ${cells.length} cells; tracking at ${describeTracking(store, options.trackingTimeoutS)}`);
  const command = rerunCommand();
  let parent;
  try {
    parent = await openSweepParent(store, loaded, { fresh: options.fresh, resume: options.resume, command });
  } catch (error) {
    if (connected) await closeQueue(connected.queue);
    await closeQuickly(store);
    if (error instanceof MlflowUnavailableError)
      throw new Error(
        `the tracking server at ${store.location} could not be reached, so nothing was run: ${error.message}. Check --tracking-uri / MLFLOW_TRACKING_URI (or raise --tracking-timeout-s for a slow server)`,
      );
    throw error;
  }
  log.info(
    `${parent.resumed ? 'resuming' : 'started'} parent run ${parent.parentRunId} (code ${parent.codeHash}, --resume ${parent.resume})`,
  );
  let failedCount = 0;
  if (connected) {
    const { runSweepOnQueue } = await import('../queue/enqueue-sweep');
    const outcome = await runSweepOnQueue({
      loaded,
      parent,
      redisUrl: options.redis!,
      connected,
      redisTimeoutS: options.redisTimeoutS,
      trackingUri: options.trackingUri && redactUri(options.trackingUri),
      trackingTimeoutS: options.trackingTimeoutS,
      log: log.info,
    }).catch(async (error: unknown) => {
      // the parent must not stay RUNNING as if the sweep were still under way
      const reason = `the sweep stopped: ${(error as Error).message}`;
      await store.setTag(parent.parentRunId, CFA_TAGS.error, reason).catch(() => undefined);
      await store
        .updateRun({ runId: parent.parentRunId, status: 'FAILED', endTime: Date.now() })
        .catch(() => undefined);
      await closeQuickly(store);
      throw new Error(
        `${(error as Error).message}. Parent run ${parent.parentRunId} closed FAILED; the queued jobs stay, and running the sweep again re-attaches to them`,
      );
    });
    failedCount = outcome.failed.length;
  } else {
    const engine = await engineFromOptions(options, log);
    const progress = createPhaseProgress();
    const outcome = await runSweepLocally({
      store,
      loaded,
      parent,
      engine,
      outRoot,
      progress,
      cache: new DiskEmbeddingCache(options.featureCache),
      log: log.info,
      systemMetrics: options.systemMetrics,
    }).finally(() => progress.stop());
    failedCount = outcome.failed.length;
    for (const f of outcome.failed) log.warn(`FAILED ${f.cell}: ${f.error}`);
  }
  if (store instanceof SpoolingTrackingStore && store.backlog > 0) {
    // the table is read back from the server: deliver what was spooled during an outage first
    log.info(
      `waiting up to ${options.syncTimeoutS} s for the tracking server to take ${store.backlog} spooled write(s) (they stay in ${store.spoolPath})`,
    );
    const deadlineAt = Date.now() + options.syncTimeoutS * 1000;
    while (!(await store.flush({ deadlineAt }))) {
      const left = deadlineAt - Date.now();
      if (left <= 0) {
        log.warn(
          `the tracking server did not take the spool within ${options.syncTimeoutS} s; all cells ran, ${store.backlog} write(s) remain spooled in ${store.spoolPath}, and the parent run ${parent.parentRunId} stays RUNNING without its table. When the server answers: npx cfa sync-runs --tracking-uri ${store.location} ${store.spoolPath} — then run the sweep again to build the table (finished cells are reused): ${command}`,
        );
        await store.close({ flush: false });
        process.exitCode = EXIT.spoolLeft;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(2_000, left)));
    }
    log.info('spool delivered');
  }
  const table = await finishSweep(store, loaded, parent, outRoot, log.warn);
  const registered = options.register ? await registerSweep(store, parent, sweep.name, options, log) : undefined;
  await store.close();
  process.stdout.write(
    `\n${sweep.name} — ${sweep.reproduces}\n\n${table.text}\n\n${table.legend.join('\n')}\n${table.note}\n\n`,
  );
  if (table.failed || table.missing)
    process.stdout.write(
      `${table.failed} cell(s) failed, ${table.missing} missing: see the FAILED runs' cfa.error tag\n`,
    );
  process.stdout.write(
    `logged to ${store.location} (parent run ${parent.parentRunId}); in ${outRoot}: ${table.artifacts.join(', ')}; each cell's folder has plots/ and heatmaps/\n`,
  );
  if (!store.location.startsWith('http'))
    process.stdout.write(
      `open it with: MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri ${store.location}  (or copy it into a server: npx cfa sync-runs --from-store ${store.location} --tracking-uri http://…)\n`,
    );
  if (registered) process.stdout.write(registered.text);
  if (failedCount || table.failed || registered?.failed) process.exitCode = EXIT.failed;
}

/** Every finished cell's model as a version of `--register`'s name, and `--alias` on the chosen one. */
async function registerSweep(
  store: TrackingStore,
  parent: { experimentId: string; parentRunId: string },
  sweepName: string,
  options: SweepCliOptions,
  log: ReturnType<typeof createLogger>,
): Promise<{ text: string; failed: boolean }> {
  // the registry reads the same credentials (MLFLOW_TRACKING_USERNAME / _PASSWORD, _TOKEN) as the store
  const registry = new ModelRegistryClient({ uri: options.trackingUri!, env: process.env });
  try {
    const r = await registerSweepModels({
      store,
      registry,
      experimentId: parent.experimentId,
      parentRunId: parent.parentRunId,
      sweepName,
      name: options.register!,
      alias: options.alias,
      aliasBestOnTest: options.aliasBestOnTest,
    });
    for (const s of r.skipped) log.warn(`not registered: ${s.cell}: ${s.reason}`);
    const made = r.versions.filter((v) => v.created).length;
    const lines = [
      `registered ${made} new version(s) of '${r.name}' (${r.versions.length - made} already there): ${r.versions.map((v) => `v${v.version} ${v.cell}`).join('; ')}`,
      ...(r.alias
        ? [
            `alias ${r.alias.alias} → version ${r.alias.version} (${r.alias.cell}; ${r.alias.selection}): models:/${r.name}@${r.alias.alias}`,
          ]
        : []),
    ];
    return { text: `${lines.join('\n')}\n`, failed: r.skipped.length > 0 };
  } finally {
    await registry.close();
  }
}

/** Gives up the store without waiting on a server that does not answer (no last replay). */
async function closeQuickly(store: TrackingStore): Promise<void> {
  await (store instanceof SpoolingTrackingStore ? store.close({ flush: false }) : store.close());
}

export function sweepCommand(): Command {
  const command = new Command('sweep')
    .description('run a sweep file (experiments/*.yaml) and log it to MLflow')
    .argument('<file>', 'sweep file');
  addSweepOptions(command);
  return command.action((file: string, options: SweepCliOptions) => runSweepCommand(file, options));
}
