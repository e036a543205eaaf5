/**
 * `train-eval` on the command line: its options, and how they make the run config (a config file,
 * then the flags that were given; `--method` picks the method, `--set path=value` any field). The
 * run itself — train, evaluate, write the folder, log to MLflow, register — is run/train-eval.ts;
 * what it prints, report/train-eval-summary.ts. Without `--data-root` it runs on the embedded
 * synthetic dataset (generated on first use) with a seeded random-init backbone.
 */
import { Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { EpochRecord, RunProgress } from '@cfa/method-kit';
import { systemMetricsEnabled } from '@cfa/tracking';
import { createLogger, createPhaseProgress } from './logger';
import {
  addEngineOptions,
  nonNegativeInt,
  positiveNumber,
  engineFromOptions,
  type EngineOptions,
  timestampedRunDir,
} from './common-options';
import { METHOD_NAMES, METHODS, methodOf, sharedFields } from '../methods/registry';
import { type RunConfigInput, RunConfigSchema } from '../run/run-config';
import { registerProblem, runTrainEval } from '../run/train-eval';
import { mergeConfig, setPath } from '../sweep/expand-sweep';
import { trainEvalSummary } from '../report/train-eval-summary';
import { readConfigFile } from '../run/config-file';
import { formatConfigError } from '../run/config-errors';

interface TrainEvalCliOptions extends EngineOptions {
  config?: string;
  method?: string;
  set?: [string, unknown][];
  dataRoot?: string;
  category?: string;
  preset?: 'reference' | 'paper';
  backbone?: string;
  taps?: 'reference' | 'torchvision';
  weights?: string;
  allowPartial?: boolean;
  epochs?: number;
  /** Each method's own defaults instead of the quick settings. */
  full?: boolean;
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
  alias?: string;
  systemMetrics?: boolean;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n < 1)) throw new Error(`expected a fraction in [0, 1), got '${value}'`);
  return n;
}

/** The quick default: the paper trains 30 epochs; the embedded demo needs fewer to show the effect. */
export const QUICK_EPOCHS = 5;

/**
 * What `train-eval` runs where neither a config file nor a flag sets the field, beyond
 * QUICK_EPOCHS: CRAD at experiments/crad.yaml's size — 128 px resize, 4 bottlenecks of expansion
 * 216, 2 epochs. The authors' CRAD (224 px, 11 × 864 bottlenecks, 50 epochs: its schema's
 * defaults) took minutes per training step on 2 cores (docs/methods/crad.md); `--full` runs it.
 */
export const QUICK_SETTINGS: Partial<Record<string, Record<string, unknown>>> = {
  crad: {
    view: { kind: 'resize', size: 128, filter: 'bilinear' },
    decoder: { layers: 4, expansion: 216 },
    training: { epochs: 2 },
  },
};

/** The category when neither a flag nor a config file names one. */
export const DEFAULT_CATEGORY = 'fleece';

/** `a.b=1 c=x` for a nested settings object. */
function flatSettings(fields: Record<string, unknown>, prefix = ''): string {
  return Object.entries(fields)
    .map(([k, v]) =>
      v && typeof v === 'object' ? flatSettings(v as Record<string, unknown>, `${prefix}${k}.`) : `${prefix}${k}=${v}`,
    )
    .join(' ');
}

/** `--set path=value`: a config field by its dotted path, the value read as YAML (numbers, booleans, strings). */
export function parseSetting(text: string, previous: [string, unknown][] = []): [string, unknown][] {
  const at = text.indexOf('=');
  if (at <= 0) throw new Error(`expected path=value (e.g. memoryBank.gammaC=4), got '${text}'`);
  return [...previous, [text.slice(0, at).trim(), parseYaml(text.slice(at + 1))]];
}

/** A config file's method part on the top level (a file from before methods has it under `cfa:`). */
function methodFields(base: RunConfigInput): Record<string, unknown> {
  const { dataset: _dataset, heatmaps: _heatmaps, model: _model, cfa, ...rest } = base;
  return structuredClone(cfa && typeof cfa === 'object' ? { method: 'cfa', ...cfa, ...rest } : rest);
}

/**
 * The run config: a config file's fields, then the flags that were given on top (a flag that was
 * not given never overrides the file; commander options therefore carry no defaults here). A flag
 * of a field the run's method does not have is left to the schema, which names whose field it is.
 */
export function trainEvalConfig(
  options: TrainEvalCliOptions,
  base: RunConfigInput = { dataset: { category: options.category ?? DEFAULT_CATEGORY } },
): RunConfigInput {
  const m = methodFields(base);
  const set = <T>(value: T | undefined, apply: (v: T) => void) => value !== undefined && apply(value);
  const merge = (field: string, fields: Record<string, unknown>) => (m[field] = { ...(m[field] as object), ...fields });
  set(options.method, (v) => (m.method = v));
  const method = METHODS.find((x) => x.name === (m.method ?? METHODS[0].name));
  set(options.preset, (v) => (m.preset = v));
  set(options.backbone, (v) => merge('backbone', { name: v }));
  set(options.taps, (v) => merge('backbone', { taps: v }));
  set(options.weights, (v) => merge('backbone', { weights: v }));
  set(options.allowPartial, (v) => merge('backbone', { allowPartial: v }));
  set(options.epochs, (v) => merge('training', { epochs: v }));
  set(options.gammaD, (v) => merge('descriptor', { gammaD: v }));
  if (options.bank || options.gammaC !== undefined) {
    const current = (m.memoryBank ?? {}) as Record<string, unknown>;
    const sameKind = !options.bank || current.kind === undefined || current.kind === options.bank;
    m.memoryBank = {
      ...(sameKind ? current : {}),
      ...(options.bank ? { kind: options.bank } : {}),
      ...(options.gammaC !== undefined ? { gammaC: options.gammaC } : {}),
    };
  }
  set(options.loss, (v) => merge('loss', { terms: v }));
  set(options.ensemble, (v) => (m.ensemble = v));
  set(options.selection, (v) => merge('evaluation', { selection: v }));
  set(options.evalEveryEpoch, (v) => merge('evaluation', { everyEpoch: v }));
  set(options.seed, (v) => (m.seed = v));
  set(options.holdout, (v) => merge('calibration', { holdout: v }));
  for (const [path, value] of options.set ?? []) setPath(m, path, value);
  if (!options.full && method) {
    // the quick settings for what neither the file nor a flag set: few epochs for methods that train, CRAD's sweep size
    const quick = mergeConfig(
      method.configFields.includes('training') ? { training: { epochs: QUICK_EPOCHS } } : {},
      QUICK_SETTINGS[method.name] ?? {},
    );
    const merged = mergeConfig(quick, m);
    // a view of another kind has other fields: it replaces the quick view instead of merging into it
    const kindOf = (view: unknown) => (view as { kind?: string } | undefined)?.kind;
    if (kindOf(m.view) && kindOf(m.view) !== kindOf(quick.view)) merged.view = m.view;
    Object.assign(m, merged);
  }
  return {
    ...m,
    dataset: {
      ...base.dataset,
      // a config file may leave the category to the command line
      category: options.category ?? base.dataset?.category ?? DEFAULT_CATEGORY,
      ...(options.dataRoot ? { root: options.dataRoot } : {}),
    },
    ...(base.heatmaps !== undefined ? { heatmaps: base.heatmaps } : {}),
    ...(base.model !== undefined ? { model: base.model } : {}),
    ...(options.heatmaps !== undefined ? { heatmaps: options.heatmaps } : {}),
  };
}

export function trainEvalCommand(): Command {
  const command = new Command('train-eval')
    .description(
      'train and evaluate one method on one category (default: CFA on the embedded synthetic dataset, random-init resnet18)',
    )
    .option(
      '--config <file>',
      'a run config (JSON or YAML: { method, <its fields>, dataset, heatmaps }); flags override it',
    )
    .addOption(
      new Option('--method <name>', `the method (default: the config file's, else ${METHOD_NAMES[0]})`).choices(
        METHOD_NAMES,
      ),
    )
    .option(
      '--set <path=value>',
      'set any config field by its path, e.g. --set memoryBank.gammaC=4 (repeatable; the value is read as YAML)',
      parseSetting,
    )
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
    .option(
      '--epochs <n>',
      `training epochs (default ${QUICK_EPOCHS}, CRAD 2: the quick settings; paper 30, CRAD's authors 50)`,
      nonNegativeInt,
    )
    .option(
      '--full',
      "each method's own defaults instead of the quick settings for 2 cores (CFA 30 epochs; CRAD at its authors' 224 px, 11 × 864 bottlenecks, 50 epochs — hours here)",
    )
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
      "fraction of train/good held out of the fit to set the deployed thresholds (default: the config file's calibration.holdout, else 0 = none, the reference protocol; 0.1 for a model to deploy)",
      fraction,
    )
    .option('--feature-cache <dir>', 'keep backbone features on disk here and reuse them across runs')
    .addOption(
      new Option('--tracking-uri <uri>', 'MLflow tracking server (default: the local store ./mlruns)').env(
        'MLFLOW_TRACKING_URI',
      ),
    )
    .option('--no-tracking', 'do not log the run to MLflow')
    .option(
      '--register <name>',
      "register the run's logged model (the MLflow Model and the bundle) as a new version of this registered model (needs an MLflow server)",
    )
    .option('--alias <alias>', 'with --register: point this alias (e.g. champion) at the new version')
    .option(
      '--system-metrics',
      "log MLflow's system metrics (CPU, memory, disk, network, GPU) every 10 s while the run computes (default: MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING, else off)",
      systemMetricsEnabled(),
    )
    .option('--json', 'print the result JSON on stdout instead of the table');
  addEngineOptions(command);
  return command.action(async (options: TrainEvalCliOptions) => {
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
    const problem = registerProblem({ ...options, config });
    if (problem) {
      process.stderr.write(`error: --register ${options.register ?? ''}: ${problem}\n`);
      process.exitCode = 2;
      return;
    }
    const engine = await engineFromOptions(options, log);
    const method = methodOf(config);
    const quick = options.full ? undefined : QUICK_SETTINGS[method.name];
    if (quick)
      log.info(
        `${method.label}: quick settings for 2 cores where unset (${flatSettings(quick)}); --full for the method's own defaults`,
      );
    const weightsNote = config.backbone.weights
      ? `weights ${config.backbone.weights}`
      : `seeded random-init weights (seed ${config.seed}; not ImageNet: numbers are not the paper's)`;
    const ensemble = config.ensemble === 'cfa++' ? ' as its CFA++ two-view ensemble (maps averaged)' : '';
    log.info(
      `${method.label}${ensemble}: ${method.describeConfig(config as never)}; ${config.backbone.name}, ${weightsNote}; category ${config.dataset.category}`,
    );
    const outDir = options.out ?? timestampedRunDir('train-eval', config.dataset.category);
    const progress = createPhaseProgress();
    const epochs = sharedFields(config).training?.epochs ?? 0;
    const epochProgress = (phase: string) => (e: EpochRecord) =>
      progress.update(
        phase,
        e.epoch,
        epochs,
        [`loss ${e.loss.toFixed(4)}`, ...(e.radius !== undefined ? [`r ${e.radius.toExponential(2)}`] : [])].join(' '),
      );
    const outcome = await runTrainEval({
      config,
      engine,
      outDir,
      featureCache: options.featureCache,
      tracking: options.tracking,
      trackingUri: options.trackingUri,
      register: options.register,
      alias: options.alias,
      systemMetrics: options.systemMetrics,
      onProgress: (e: RunProgress) =>
        progress.update(e.view ? `${e.view} ${e.phase}` : e.phase, e.done, e.total, e.detail),
      onEpoch: epochProgress(config.ensemble === 'cfa++' ? 'primary train' : 'train'),
      onCompanionEpoch: epochProgress('companion train'),
      log: log.info,
    }).finally(() => progress.stop());
    if (options.json) {
      process.stdout.write(`${JSON.stringify(outcome.result, null, 2)}\n`);
      return;
    }
    process.stdout.write(trainEvalSummary(outcome, outDir));
    for (const [metric, why] of Object.entries(outcome.result.metrics.undefinedMetrics)) log.warn(`${metric}: ${why}`);
  });
}
