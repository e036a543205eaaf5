/**
 * The config fragments every method shares, so that a sweep axis over `backbone.name`, `view`,
 * `seed`, `calibration` or `ensemble` means the same thing whatever the method: each method's
 * schema (`configSchema` of its `AnomalyMethod`) is a strict object built from these plus its
 * own fields. A method picks its own defaults where its authors' code does (PatchCore: WRN50-2 with
 * torchvision's taps; CFA: ResNet-18 with the CFA reference code's taps).
 *
 * @example
 * ```ts
 * const Schema = z.strictObject({
 *   method: methodLiteral('padim'),
 *   backbone: backboneConfigSchema({ taps: 'torchvision' }),
 *   ...commonConfigFields(),
 * });
 * ```
 */
import { z } from 'zod';
import { viewDefaultingTo, ViewSchema } from '@cfa/data';
import { availableBackbones, type Taps } from '@cfa/backbone';

/** `method: <name>`, defaulted, so a config that names no method is still one method's. */
export function methodLiteral<N extends string>(name: N) {
  return z.literal(name).default(name);
}

/** Which frozen backbone and feature taps, with per-method defaults. */
export function backboneConfigSchema(defaults: { name?: string; taps?: Taps } = {}) {
  return z
    .strictObject({
      name: z.enum(availableBackbones() as [string, ...string[]]).default(defaults.name ?? 'resnet18'),
      /**
       * Which feature maps: 'reference' = the CFA reference code's (leaky-ReLU ResNet taps, its
       * EfficientNet-PyTorch B5); 'torchvision' = torchvision's post-ReLU layer outputs (what
       * PatchCore's, PaDiM's and anomalib's extractors give).
       */
      taps: z.enum(['reference', 'torchvision'] satisfies Taps[]).default(defaults.taps ?? 'reference'),
      /** A `.safetensors` / `.pth` file with torchvision names; absent = seeded random init (tagged weights=random). */
      weights: z.string().optional(),
      allowPartial: z.boolean().default(false),
      /** Random init only: estimate BatchNorm statistics on a fixed synthetic batch (see @cfa/backbone). */
      calibrateBatchNorm: z.boolean().default(true),
    })
    .prefault({});
}
export type BackboneConfig = z.infer<ReturnType<typeof backboneConfigSchema>>;

/**
 * When the test set is evaluated and which number is reported (methods that train in epochs).
 * The CFA reference code evaluates after every epoch and reports, per metric, the best over the
 * epochs ('best-on-test': it selects with the test labels, so runs are tagged and tables marked);
 * the honest default reports the last epoch.
 */
export const EvaluationConfigSchema = z.strictObject({
  selection: z.enum(['last', 'best-on-test']).default('last'),
  /** Evaluate after every epoch (logged per epoch); implied by best-on-test. */
  everyEpoch: z.boolean().default(false),
});
export type EvaluationConfig = z.infer<typeof EvaluationConfigSchema>;

/** Whether the test set is evaluated after every epoch. */
export function evaluatesEveryEpoch(evaluation: EvaluationConfig | undefined): boolean {
  return evaluation !== undefined && (evaluation.everyEpoch || evaluation.selection === 'best-on-test');
}

/**
 * Deployable thresholds without test labels (docs/method.md, "Metrics": model selection must not
 * look at test labels): a fraction of train/good is held out of the fit, scored by the fitted
 * model, and the image and pixel thresholds are the (1 − fpr)-quantiles of its image scores and
 * map values (`thresholdAtFalsePositiveRate`). The F1-optimal thresholds on the test set stay
 * reported metrics only.
 *
 * The default holds out nothing: the reference codes (and the papers) fit on every train image, and
 * the default config reproduces their numbers, which a smaller train set would change
 * (docs/defaults.md). `holdout: 0.1` (train-eval `--holdout 0.1`) is the setting for a model to
 * deploy; without it predict writes maps and scores and needs an explicit threshold for masks.
 */
export const CalibrationConfigSchema = z.strictObject({
  /** Fraction of train/good held out for the thresholds, chosen by `seed`; 0 = none (the reference protocol). */
  holdout: z.number().min(0).lt(1).default(0),
  /** Image threshold: the fraction of held-out normal images scored above it. */
  imageFpr: z.number().min(0).lt(1).default(0.01),
  /** Pixel threshold: the fraction of held-out normal pixels above it. */
  pixelFpr: z.number().min(0).lt(1).default(0.001),
});
export type CalibrationConfig = z.infer<typeof CalibrationConfigSchema>;

/**
 * CFA++ (CFA paper §4.2, Tables 2, 3 and 7; docs/method.md "Data"): 'cfa++' fits a second model of
 * the same method on the resize-only companion of `view` (`companionView`: resize 256 + center-crop
 * 224 → resize 224) and scores each test image by the mean of the two anomaly maps, the
 * companion's aligned to the primary view's grid. 'none' = one model on `view`. Method-agnostic: any
 * method can be run as its two-view ensemble. Needs a center-crop or rd-mvtec view.
 */
export const EnsembleSchema = z.enum(['none', 'cfa++']);
export type Ensemble = z.infer<typeof EnsembleSchema>;

/** The fields every method's config has besides `method` and `backbone`, with their defaults. */
export function commonConfigFields() {
  return {
    // a partial view (`--set view.resize=128`) keeps the default kind and fills the rest from it
    view: viewDefaultingTo(ViewSchema.parse({ kind: 'center-crop' })),
    calibration: CalibrationConfigSchema.prefault({}),
    ensemble: EnsembleSchema.default('none'),
    /** One seed for everything random: backbone init, the method's own draws, batch order. */
    seed: z.number().int().nonnegative().default(0),
  };
}

/** What the method-agnostic code reads of any method's resolved config. */
export interface MethodConfigBase {
  method: string;
  backbone: BackboneConfig;
  view: z.infer<typeof ViewSchema>;
  calibration: CalibrationConfig;
  ensemble: Ensemble;
  seed: number;
  /** Methods that train in epochs: when the test set is evaluated. */
  evaluation?: EvaluationConfig;
  /** Methods that train in epochs: how many. */
  training?: { epochs: number };
}

/**
 * The checks that tie the common fields together, for a method schema's `superRefine`: the
 * ensemble needs a view with a companion, and per-epoch evaluation follows one model's epochs.
 */
export function checkCommonFields(config: MethodConfigBase, ctx: z.RefinementCtx): void {
  if (config.ensemble !== 'none' && config.view.kind === 'resize')
    ctx.addIssue({
      code: 'custom',
      message:
        "ensemble 'cfa++' adds the resize-only companion of a center-crop or rd-mvtec view; a resize view has none",
      path: ['ensemble'],
    });
  if (config.ensemble !== 'none' && evaluatesEveryEpoch(config.evaluation))
    ctx.addIssue({
      code: 'custom',
      message:
        "per-epoch evaluation (evaluation.everyEpoch or selection 'best-on-test') follows one model's epochs; CFA++ trains two in turn",
      path: ['evaluation'],
    });
}
