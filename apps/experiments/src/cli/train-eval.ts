/**
 * `train-eval`: CFA on one category — train, evaluate, print I-AUROC / P-AUROC / P-AUPRO / P-PRO (ref), write the
 * result JSON, per-image scores, heatmap panels and the trained model (`model/`, the bundle that
 * `predict` and `export` read; `mlflow-model/`, its ONNX export as an MLflow Model); `--ensemble
 * cfa++` runs CFA++ (two views). The run is logged to MLflow like a one-cell sweep (the local store
 * `./mlruns` unless `--tracking-uri` / `MLFLOW_TRACKING_URI`); `--register NAME` registers its
 * MLflow Model in the server's Model Registry. Without `--data-root` it runs on the embedded
 * synthetic dataset (generated on first use) with a seeded random-init backbone.
 */
import { Command, Option } from 'commander';
import { DiskEmbeddingCache, type EpochRecord } from '@cfa/cfa';
import { createTrackingStore, ModelRegistryClient, registerModelVersion } from '@cfa/tracking';
import { checkOutputFolder } from '@cfa/io';
import { createLogger, createPhaseProgress } from './logger';
import {
  addEngineOptions,
  nonNegativeInt,
  positiveNumber,
  engineFromOptions,
  type EngineOptions,
  timestampedRunDir,
} from './common-options';
import type { RunProgress } from '@cfa/cfa';
import { type RunConfigInput, RunConfigSchema } from '../run/run-config';
import { type CellMetrics, type CellResult, runCell } from '../run/run-cell';
import { BEST_ON_TEST_LEGEND, BEST_ON_TEST_MARK } from '../report/comparison-table';
import { runTrackedCell } from '../tracking/tracked-cell';
import { cellKey } from '../sweep/expand-sweep';
import { MLFLOW_MODEL_DIR } from '../export/mlflow-model';
import { formatTable, percent } from '../report/text-table';
import { readConfigFile } from '../run/config-file';
import { formatConfigError } from '../run/config-errors';

interface TrainEvalOptions extends EngineOptions {
  config?: string;
  dataRoot?: string;
  category?: string;
  preset?: 'reference' | 'paper';
  backbone?: string;
  taps?: 'reference' | 'torchvision';
  weights?: string;
  allowPartial?: boolean;
  epochs?: number;
  gammaC?: number;
  gammaD?: number;
  bank?: 'reference' | 'paper';
  loss?: 'none' | 'att' | 'att+rep';
  ensemble?: 'none' | 'cfa++';
  selection?: 'last' | 'best-on-test';
  evalEveryEpoch?: boolean;
  seed?: number;
  heatmaps?: number;
  out?: string;
  featureCache?: string;
  json?: boolean;
  holdout?: number;
  tracking: boolean;
  trackingUri?: string;
  register?: string;
}

/** The MLflow experiment train-eval runs are logged to. */
export const TRAIN_EVAL_EXPERIMENT = 'train-eval';

function fraction(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n < 1)) throw new Error(`expected a fraction in [0, 1), got '${value}'`);
  return n;
}

/** The quick default: the paper trains 30 epochs; the embedded demo needs fewer to show the effect. */
export const QUICK_EPOCHS = 5;

/** The category when neither a flag nor a config file names one. */
export const DEFAULT_CATEGORY = 'fleece';

/**
 * The run config: a config file's fields, then the flags that were given on top (a flag that was
 * not given never overrides the file; commander options therefore carry no defaults here).
 */
export function trainEvalConfig(
  options: TrainEvalOptions,
  base: RunConfigInput = { dataset: { category: options.category ?? DEFAULT_CATEGORY } },
): RunConfigInput {
  const cfa = structuredClone(base.cfa ?? {});
  const set = <T>(value: T | undefined, apply: (v: T) => void) => value !== undefined && apply(value);
  cfa.training = { epochs: QUICK_EPOCHS, ...cfa.training };
  set(options.preset, (v) => (cfa.preset = v));
  set(options.backbone, (v) => (cfa.backbone = { ...cfa.backbone, name: v }));
  set(options.taps, (v) => (cfa.backbone = { ...cfa.backbone, taps: v }));
  set(options.weights, (v) => (cfa.backbone = { ...cfa.backbone, weights: v }));
  set(options.allowPartial, (v) => (cfa.backbone = { ...cfa.backbone, allowPartial: v }));
  set(options.epochs, (v) => (cfa.training = { ...cfa.training, epochs: v }));
  set(options.gammaD, (v) => (cfa.descriptor = { ...cfa.descriptor, gammaD: v }));
  if (options.bank || options.gammaC !== undefined) {
    const current = (cfa.memoryBank ?? {}) as Record<string, unknown>;
    const sameKind = !options.bank || current.kind === undefined || current.kind === options.bank;
    cfa.memoryBank = {
      ...(sameKind ? current : {}),
      ...(options.bank ? { kind: options.bank } : {}),
      ...(options.gammaC !== undefined ? { gammaC: options.gammaC } : {}),
    };
  }
  set(options.loss, (v) => (cfa.loss = { ...cfa.loss, terms: v }));
  set(options.ensemble, (v) => (cfa.ensemble = v));
  set(options.selection, (v) => (cfa.evaluation = { ...cfa.evaluation, selection: v }));
  set(options.evalEveryEpoch, (v) => (cfa.evaluation = { ...cfa.evaluation, everyEpoch: v }));
  set(options.seed, (v) => (cfa.seed = v));
  set(options.holdout, (v) => (cfa.calibration = { ...cfa.calibration, holdout: v }));
  return {
    ...base,
    dataset: {
      ...base.dataset,
      // a config file may leave the category to the command line
      category: options.category ?? base.dataset?.category ?? DEFAULT_CATEGORY,
      ...(options.dataRoot ? { root: options.dataRoot } : {}),
    },
    cfa,
    ...(options.heatmaps !== undefined ? { heatmaps: options.heatmaps } : {}),
  };
}

export function trainEvalCommand(): Command {
  const command = new Command('train-eval')
    .description(
      'train and evaluate CFA on one category (default: the embedded synthetic dataset, random-init resnet18)',
    )
    .option('--config <file>', 'a run config (JSON or YAML: { dataset, cfa, heatmaps }); flags override it')
    .option('--data-root <dir>', 'MVTec AD folder (default: the embedded synthetic dataset in data/synthetic)')
    .option(
      '--category <name>',
      `category folder (default: the config file's, else ${DEFAULT_CATEGORY}, one of the 15 standard synthetic categories)`,
    )
    .addOption(
      new Option(
        '--preset <name>',
        "defaults: the CFA reference code's (reference, the default) or the paper's text (paper); docs/defaults.md",
      ).choices(['reference', 'paper']),
    )
    .option('--backbone <name>', 'resnet18 | wide_resnet50_2 | vgg19 | vgg19_bn | efficientnet_b5')
    .addOption(
      new Option(
        '--taps <kind>',
        "feature maps: the reference code's (leaky-ReLU ResNet taps, EfficientNet-PyTorch) or torchvision's",
      ).choices(['reference', 'torchvision']),
    )
    .option('--weights <file>', 'ImageNet weights (.safetensors / .pth, torchvision names); default seeded random init')
    .option('--allow-partial', 'accept a weight file with missing parameters (filled from the random init)')
    .option('--epochs <n>', `training epochs (default ${QUICK_EPOCHS}; paper 30)`, nonNegativeInt)
    .option('--gamma-c <n>', 'memory bank compression γc (centres = HW/γc)', positiveNumber)
    .option('--gamma-d <n>', 'descriptor compression γd (φ channels = D/γd)', positiveNumber)
    .addOption(
      new Option(
        '--bank <kind>',
        'memory bank init: reference code (mean + k-means) or paper Algorithm 1 (EMA)',
      ).choices(['reference', 'paper']),
    )
    .addOption(new Option('--loss <terms>', 'loss terms (paper Table 5)').choices(['none', 'att', 'att+rep']))
    .addOption(
      new Option(
        '--ensemble <kind>',
        'cfa++: a second model on the resize-only view, anomaly maps averaged (paper Tables 2, 3, 7)',
      ).choices(['none', 'cfa++']),
    )
    .addOption(
      new Option(
        '--selection <kind>',
        "reported numbers: the last epoch's (default), or each metric's best epoch on the test set (the reference code's protocol; tagged and marked)",
      ).choices(['last', 'best-on-test']),
    )
    .option('--eval-every-epoch', 'evaluate the test set after every epoch (logged per epoch; implied by best-on-test)')
    .option('--seed <n>', 'seed for every random choice', nonNegativeInt)
    .option('--heatmaps <n>', 'heatmap panels to write', nonNegativeInt)
    .option('--out <dir>', 'output folder (default runs/train-eval/<time>-<category>)')
    .option(
      '--holdout <fraction>',
      'fraction of train/good held out of the fit to set the deployed thresholds (default 0.1; 0 = none)',
      fraction,
    )
    .option('--feature-cache <dir>', 'keep backbone features on disk here and reuse them across runs')
    .addOption(
      new Option('--tracking-uri <uri>', 'MLflow tracking server (default: the local store ./mlruns)').env(
        'MLFLOW_TRACKING_URI',
      ),
    )
    .option('--no-tracking', 'do not log the run to MLflow')
    .option('--register <name>', "register the run's MLflow Model under this name (needs an MLflow server)")
    .option('--json', 'print the result JSON on stdout instead of the table');
  addEngineOptions(command);
  return command.action(async (options: TrainEvalOptions) => {
    const log = createLogger();
    let input: RunConfigInput | undefined;
    if (options.config) input = await readConfigFile(options.config);
    const parsed = RunConfigSchema.safeParse(trainEvalConfig(options, input));
    if (!parsed.success) {
      process.stderr.write(`${formatConfigError(parsed.error, options.config ?? 'command line')}\n`);
      process.exitCode = 2;
      return;
    }
    const config = parsed.data;
    // found before any work: what --register needs
    if (options.register !== undefined) {
      const why = !options.tracking
        ? '--no-tracking logs nothing to register'
        : !/^https?:\/\//i.test(options.trackingUri ?? '')
          ? 'the Model Registry is an MLflow server API: pass --tracking-uri http://… (or set MLFLOW_TRACKING_URI)'
          : !config.model.mlflow
            ? 'the run writes no MLflow Model (model.mlflow is false in the config)'
            : !options.register.trim()
              ? 'the name is empty'
              : undefined;
      if (why) {
        process.stderr.write(`error: --register ${options.register}: ${why}\n`);
        process.exitCode = 2;
        return;
      }
    }
    const engine = await engineFromOptions(options, log);
    const weightsNote = config.cfa.backbone.weights
      ? `weights ${config.cfa.backbone.weights}`
      : `seeded random-init weights (seed ${config.cfa.seed}; not ImageNet: numbers are not the paper's)`;
    const method = config.cfa.ensemble === 'cfa++' ? 'CFA++ (two views, maps averaged), ' : '';
    log.info(
      `${method}${config.cfa.backbone.name}, ${weightsNote}; category ${config.dataset.category}; ${config.cfa.training.epochs} epochs`,
    );
    const outDir = options.out ?? timestampedRunDir('train-eval', config.dataset.category);
    if (options.featureCache) await checkOutputFolder(options.featureCache, '--feature-cache');
    const progress = createPhaseProgress();
    const epochProgress = (phase: string) => (e: EpochRecord) =>
      progress.update(
        phase,
        e.epoch,
        config.cfa.training.epochs,
        `loss ${e.loss.toFixed(4)} r ${e.radius.toExponential(2)}`,
      );
    const cellOptions = {
      engine,
      outDir,
      cache: options.featureCache ? new DiskEmbeddingCache(options.featureCache) : undefined,
      onProgress: (e: RunProgress) =>
        progress.update(e.view ? `${e.view} ${e.phase}` : e.phase, e.done, e.total, e.detail),
      onEpoch: epochProgress(config.cfa.ensemble === 'cfa++' ? 'primary train' : 'train'),
      onCompanionEpoch: epochProgress('companion train'),
      log: log.info,
    };
    let result: CellResult;
    let logged: { location: string; runId: string; artifactUri: string } | undefined;
    if (options.tracking) {
      // logged like a one-cell sweep: the same params, metrics, artifacts and tags as a sweep's child run
      const store = createTrackingStore({ uri: options.trackingUri });
      try {
        const experimentId = await store.getOrCreateExperiment(TRAIN_EVAL_EXPERIMENT);
        const tracked = await runTrackedCell({
          ...cellOptions,
          store,
          experimentId,
          sweepName: TRAIN_EVAL_EXPERIMENT,
          cell: {
            key: cellKey(config),
            name: `${config.dataset.category} train-eval`,
            category: config.dataset.category,
            seed: config.cfa.seed,
            assignments: {},
            config,
          },
        }).finally(() => progress.stop());
        if (tracked.error || !tracked.result)
          throw new Error(`${tracked.error?.message ?? 'no result'} (MLflow run ${tracked.runId} marked FAILED)`);
        result = tracked.result;
        const run = await store.getRun(tracked.runId);
        logged = { location: store.location, runId: tracked.runId, artifactUri: run.info.artifactUri };
      } finally {
        await store.close();
      }
    } else {
      result = await runCell({ ...cellOptions, config }).finally(() => progress.stop());
    }
    let registered: string | undefined;
    if (options.register !== undefined && logged) {
      const registry = new ModelRegistryClient({ uri: options.trackingUri! });
      try {
        const version = await registerModelVersion(registry, {
          name: options.register,
          source: `${logged.artifactUri}/${MLFLOW_MODEL_DIR}`,
          runId: logged.runId,
          description: `CFA ${config.cfa.backbone.name} on ${config.dataset.category} (train-eval)`,
        });
        registered = `registered ${MLFLOW_MODEL_DIR} of run ${logged.runId} as model '${version.name}' version ${version.version} (models:/${version.name}/${version.version})`;
      } finally {
        await registry.close();
      }
    }
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const m = result.metrics;
    const headers = ['I-AUROC', 'P-AUROC', 'P-AUPRO', 'P-PRO (ref)', 'I-F1max', 'P-F1max'];
    const values = (x: CellMetrics) =>
      [x.imageAuroc, x.pixelAuroc, x.pixelAupro, x.pixelProReference, x.imageF1Max, x.pixelF1Max].map(percent);
    if (result.epochs) {
      const perEpoch = result.epochs.map((e) => [
        String(e.epoch),
        result.history[e.epoch - 1]?.radius.toExponential(4) ?? '',
        ...values(e.metrics),
      ]);
      process.stdout.write(`\nper epoch (test set):\n${formatTable(['epoch', 'r', ...headers], perEpoch)}\n`);
    }
    const best = result.selection.kind === 'best-on-test';
    const mark = best ? BEST_ON_TEST_MARK : '';
    const rows = [
      [
        config.dataset.category,
        `${config.cfa.backbone.name}${config.cfa.ensemble === 'cfa++' ? ' (CFA++)' : ''}`,
        ...values(m).map((v) => `${v}${mark}`),
      ],
    ];
    process.stdout.write(`\n${formatTable(['category', 'backbone', ...headers], rows)}\n`);
    process.stdout.write(best ? `${BEST_ON_TEST_LEGEND}\n\n` : '\n');
    const t = result.timings;
    process.stdout.write(
      `timings: embed train ${t.embedTrainSeconds.toFixed(1)} s, memory bank ${t.bankSeconds.toFixed(1)} s, train ${t.trainSeconds.toFixed(1)} s, embed test ${t.embedTestSeconds.toFixed(1)} s, score ${t.predictSeconds.toFixed(1)} s (${t.throughputImagesPerSecond.toFixed(1)} img/s), total ${t.totalSeconds.toFixed(1)} s\n`,
    );
    if (result.ensemble)
      process.stdout.write(
        `CFA++: mean of the anomaly maps of ${result.ensemble.views.join(' and ')} (the second aligned to the first's grid); timings are both models'\n`,
      );
    for (const [metric, why] of Object.entries(m.undefinedMetrics)) log.warn(`${metric}: ${why}`);
    process.stdout.write(
      `wrote ${outDir}/result.json, scores.csv, plots/ (ROC, PRO, feature space before / after adaptation), heatmaps/${result.savedModel?.bundle ? `, the model bundle ${outDir}/model/` : ''}${result.savedModel?.mlflowModel ? ` and its MLflow Model ${outDir}/${MLFLOW_MODEL_DIR}/` : ''}\n`,
    );
    if (result.thresholds)
      process.stdout.write(
        `deployed thresholds (from ${result.thresholds.holdoutImages} held-out train images, FPR ${result.thresholds.imageFpr} / ${result.thresholds.pixelFpr}): image ${result.thresholds.image.toPrecision(6)}, pixel ${result.thresholds.pixel.toPrecision(6)}\n`,
      );
    if (logged)
      process.stdout.write(
        `logged MLflow run ${logged.runId} to ${logged.location}${logged.location.startsWith('http') ? '' : ` (open it with: mlflow ui --backend-store-uri ${logged.location})`}\n`,
      );
    if (registered) process.stdout.write(`${registered}\n`);
  });
}
