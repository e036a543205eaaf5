/**
 * `sweep <file>`: run a declarative sweep (experiments/*.yaml) — validate, expand, run the missing
 * cells (in process, or as jobs on a queue), log everything to MLflow, print the paper-style table.
 */
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { describeEngine, selectEngine } from '@cfa/tensor-runtime';
import { DiskEmbeddingCache } from '@cfa/cfa';
import { ALL_SYNTHETIC_CATEGORIES, categoryKind } from '@cfa/data';
import { createTrackingStore, SpoolingTrackingStore } from '@cfa/tracking';
import { addEngineOptions, nonNegativeInt } from './common-options';
import { createLogger, createPhaseProgress } from './logger';
import { loadSweep, type SweepOverrides } from '../sweep/load-sweep';
import { SweepError } from '../sweep/expand-sweep';
import { openSweepParent, sweepKey } from '../sweep/sweep-runs';
import { runSweepLocally } from '../sweep/run-sweep-local';
import { finishSweep } from '../sweep/finish-sweep';
import type { CellRow } from '../report/aggregate-cells';
import { sweepPlan } from '../report/sweep-plan';

export interface SweepCliOptions {
  dryRun?: boolean;
  dataRoot?: string;
  categories?: string;
  seeds?: string;
  epochs?: number;
  weights?: string;
  backbone?: string;
  trackingUri?: string;
  featureCache: string;
  out?: string;
  executor: 'local' | 'queue';
  syncTimeoutS: number;
  redis?: string;
  engine: string;
  backend?: string;
  threads?: number;
}

const list = (v?: string) =>
  v
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function sweepOverrides(o: SweepCliOptions): SweepOverrides {
  return {
    dataRoot: o.dataRoot,
    categories: list(o.categories),
    seeds: list(o.seeds)?.map(Number),
    epochs: o.epochs,
    weights: o.weights,
    backbone: o.backbone,
  };
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
    .option('--weights <file>', 'backbone weight file for every cell (torchvision names)')
    .option('--backbone <name>', 'backbone for every cell (overrides the file, not its axes)')
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
      '--sync-timeout-s <s>',
      'after the cells, how long to wait for an unreachable tracking server',
      nonNegativeInt,
      900,
    );
  return addEngineOptions(command);
}

export async function runSweepCommand(file: string, options: SweepCliOptions): Promise<void> {
  const log = createLogger();
  let loaded;
  try {
    loaded = await loadSweep(file, sweepOverrides(options));
  } catch (error) {
    if (error instanceof SweepError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
  const { sweep, cells } = loaded;
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
  const outRoot = options.out ?? join('runs', sweep.name);
  const store = createTrackingStore({
    uri: options.trackingUri,
    spoolPath: join('.cache', 'spool', `${sweep.name}-${sweepKey(loaded)}.jsonl`),
    onEvent: (line) => log.warn(line),
  });
  log.info(`${sweep.name}: ${cells.length} cells; tracking at ${store.location}`);
  const parent = await openSweepParent(store, loaded);
  log.info(`${parent.resumed ? 'resuming' : 'started'} parent run ${parent.parentRunId}`);
  let failedCount = 0;
  if (options.executor === 'queue') {
    const { runSweepOnQueue } = await import('../queue/enqueue-sweep');
    const outcome = await runSweepOnQueue({
      loaded,
      parent,
      redisUrl: options.redis!,
      trackingUri: options.trackingUri,
      log: log.info,
    });
    failedCount = outcome.failed.length;
  } else {
    const engine = await selectEngine({
      requested: options.engine,
      tfBackend: options.backend,
      threads: options.threads,
    });
    log.info(describeEngine(engine));
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
    }).finally(() => progress.stop());
    failedCount = outcome.failed.length;
    for (const f of outcome.failed) log.warn(`FAILED ${f.cell}: ${f.error}`);
  }
  if (store instanceof SpoolingTrackingStore && store.backlog > 0) {
    // the table is read back from the server: deliver what was spooled during an outage first
    log.info(
      `waiting for the tracking server to take ${store.backlog} spooled write(s) (they stay in ${store.spoolPath}; replay later with nx run experiments:sync-runs)`,
    );
    const deadline = Date.now() + options.syncTimeoutS * 1000;
    while (!(await store.flush())) {
      if (Date.now() > deadline) {
        log.warn(
          `the tracking server did not come back within ${options.syncTimeoutS} s; all cells ran, ${store.backlog} write(s) remain spooled in ${store.spoolPath}`,
        );
        process.exitCode = 3;
        return;
      }
      await new Promise((r) => setTimeout(r, 2_000));
    }
    log.info('spool delivered');
  }
  const table = await finishSweep(store, loaded, parent, outRoot, log.warn);
  await store.close();
  process.stdout.write(`\n${sweep.name} — ${sweep.reproduces}\n\n${table.text}\n\n${table.legend.join('\n')}\n\n`);
  if (table.failed || table.missing)
    process.stdout.write(
      `${table.failed} cell(s) failed, ${table.missing} missing: see the FAILED runs' cfa.error tag\n`,
    );
  process.stdout.write(
    `logged to ${store.location} (parent run ${parent.parentRunId}); in ${outRoot}: ${table.artifacts.join(', ')}; each cell's folder has plots/ and heatmaps/\n`,
  );
  if (!store.location.startsWith('http'))
    process.stdout.write(`open it with: mlflow ui --backend-store-uri ${store.location}\n`);
  if (failedCount || table.failed) process.exitCode = 1;
}

export function sweepCommand(): Command {
  const command = new Command('sweep')
    .description('run a sweep file (experiments/*.yaml) and log it to MLflow')
    .argument('<file>', 'sweep file');
  addSweepOptions(command);
  return command.action((file: string, options: SweepCliOptions) => runSweepCommand(file, options));
}
