/**
 * `train-eval`: CFA on one category — train, evaluate, print I-AUROC / P-AUROC / P-AUPRO, write the
 * result JSON, per-image scores and heatmap panels; `--ensemble cfa++` runs CFA++ (two views).
 * Without `--data-root` it runs on the embedded synthetic dataset (generated on first use) with a
 * seeded random-init backbone.
 */
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { describeEngine, selectEngine } from '@cfa/tensor-runtime';
import { DiskEmbeddingCache, type EpochRecord } from '@cfa/cfa';
import { createLogger, createPhaseProgress } from './logger';
import { addEngineOptions, nonNegativeInt, positiveNumber } from './common-options';
import { type RunConfigInput, RunConfigSchema } from '../run/run-config';
import { runCell } from '../run/run-cell';
import { formatTable, percent } from '../report/text-table';
import { readConfigFile } from '../run/config-file';
import { formatConfigError } from '../run/config-errors';

interface TrainEvalOptions {
  config?: string;
  dataRoot?: string;
  category: string;
  backbone?: string;
  weights?: string;
  allowPartial?: boolean;
  epochs?: number;
  gammaC?: number;
  gammaD?: number;
  bank?: 'reference' | 'paper';
  loss?: 'none' | 'att' | 'att+rep';
  ensemble?: 'none' | 'cfa++';
  seed?: number;
  heatmaps?: number;
  out?: string;
  featureCache?: string;
  engine: string;
  backend?: string;
  threads?: number;
  json?: boolean;
}

/** The quick default: the paper trains 30 epochs; the embedded demo needs fewer to show the effect. */
export const QUICK_EPOCHS = 5;

export function trainEvalConfig(
  options: TrainEvalOptions,
  base: RunConfigInput = { dataset: { category: options.category } },
): RunConfigInput {
  const cfa = structuredClone(base.cfa ?? {});
  const set = <T>(value: T | undefined, apply: (v: T) => void) => value !== undefined && apply(value);
  cfa.training = { epochs: QUICK_EPOCHS, ...cfa.training };
  set(options.backbone, (v) => (cfa.backbone = { ...cfa.backbone, name: v }));
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
  set(options.seed, (v) => (cfa.seed = v));
  return {
    ...base,
    dataset: {
      ...base.dataset,
      category: options.category ?? base.dataset.category,
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
      'category folder (embedded default: fleece, one of the 15 standard synthetic categories)',
      'fleece',
    )
    .option('--backbone <name>', 'resnet18 | wide_resnet50_2 | vgg19 | vgg19_bn | efficientnet_b5')
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
    .option('--seed <n>', 'seed for every random choice', nonNegativeInt)
    .option('--heatmaps <n>', 'heatmap panels to write', nonNegativeInt)
    .option('--out <dir>', 'output folder (default runs/train-eval/<time>-<category>)')
    .option('--feature-cache <dir>', 'keep backbone features on disk here and reuse them across runs')
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
    const engine = await selectEngine({
      requested: options.engine,
      tfBackend: options.backend,
      threads: options.threads,
    });
    log.info(describeEngine(engine));
    const weightsNote = config.cfa.backbone.weights
      ? `weights ${config.cfa.backbone.weights}`
      : `seeded random-init weights (seed ${config.cfa.seed}; not ImageNet: numbers are not the paper's)`;
    const method = config.cfa.ensemble === 'cfa++' ? 'CFA++ (two views, maps averaged), ' : '';
    log.info(
      `${method}${config.cfa.backbone.name}, ${weightsNote}; category ${config.dataset.category}; ${config.cfa.training.epochs} epochs`,
    );
    const outDir =
      options.out ??
      join(
        'runs',
        'train-eval',
        `${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}-${config.dataset.category}`,
      );
    const progress = createPhaseProgress();
    const epochProgress = (phase: string) => (e: EpochRecord) =>
      progress.update(
        phase,
        e.epoch,
        config.cfa.training.epochs,
        `loss ${e.loss.toFixed(4)} r ${e.radius.toExponential(2)}`,
      );
    const result = await runCell({
      config,
      engine,
      outDir,
      cache: options.featureCache ? new DiskEmbeddingCache(options.featureCache) : undefined,
      onProgress: (e) => progress.update(e.view ? `${e.view} ${e.phase}` : e.phase, e.done, e.total, e.detail),
      onEpoch: epochProgress(config.cfa.ensemble === 'cfa++' ? 'primary train' : 'train'),
      onCompanionEpoch: epochProgress('companion train'),
      log: log.info,
    }).finally(() => progress.stop());
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const m = result.metrics;
    const rows = [
      [
        config.dataset.category,
        `${config.cfa.backbone.name}${config.cfa.ensemble === 'cfa++' ? ' (CFA++)' : ''}`,
        percent(m.imageAuroc),
        percent(m.pixelAuroc),
        percent(m.pixelAupro),
        percent(m.imageF1Max),
        percent(m.pixelF1Max),
      ],
    ];
    process.stdout.write(
      `\n${formatTable(['category', 'backbone', 'I-AUROC', 'P-AUROC', 'P-AUPRO', 'I-F1max', 'P-F1max'], rows)}\n\n`,
    );
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
      `wrote ${outDir}/result.json, scores.csv, plots/ (ROC, PRO, feature space before / after adaptation) and heatmaps/\n`,
    );
  });
}
