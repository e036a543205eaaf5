/**
 * The CFA run configuration: one validated object from which a fit is a pure function (same
 * config + same data → same numbers). Every default follows the CFA reference code
 * (sungwool/CFA_for_anomaly_localization), so the default config reproduces its numbers;
 * `preset: paper` switches every point where the paper's text says otherwise at once (the table
 * in docs/defaults.md lists them, with anomalib's choices). Sweep files override fields of it;
 * explicit fields always win over the preset.
 *
 * @example
 * ```ts
 * const config = CfaConfigSchema.parse({ backbone: { name: 'resnet18' }, training: { epochs: 3 } });
 * ```
 */
import { z } from 'zod';
import { OptimizerConfigSchema } from '@cfa/tensor-runtime';
import { ViewSchema } from '@cfa/data';
import { availableBackbones, type Taps } from '@cfa/backbone';
import { DistanceMetricSchema, LossConfigSchema } from '@cfa/scoring';

export const BackboneConfigSchema = z.strictObject({
  name: z.enum(availableBackbones() as [string, ...string[]]).default('resnet18'),
  /**
   * Which feature maps: 'reference' = the reference code's (leaky-ReLU ResNet taps, its
   * EfficientNet-PyTorch B5), which every number of the paper comes from; 'torchvision' =
   * torchvision's post-ReLU layer outputs (what anomalib's timm extractor gives).
   */
  taps: z.enum(['reference', 'torchvision'] satisfies Taps[]).default('reference'),
  /** A `.safetensors` / `.pth` file with torchvision names; absent = seeded random init (tagged weights=random). */
  weights: z.string().optional(),
  allowPartial: z.boolean().default(false),
  /** Random init only: estimate BatchNorm statistics on a fixed synthetic batch (see @cfa/backbone). */
  calibrateBatchNorm: z.boolean().default(true),
});

export const DescriptorConfigSchema = z.strictObject({
  /** γd: descriptor output D/γd (paper Table 6). */
  gammaD: z.number().min(1).default(1),
  withRadius: z.boolean().default(false),
  /** 'torch-default' = nn.Conv2d's own init, which the reference code gets; the paper says He's. */
  init: z.enum(['he-normal', 'torch-default']).default('torch-default'),
});

const MemoryBankVariants = z.discriminatedUnion('kind', [
  z.strictObject({
    /** Reference code: per-location mean of φ over the train set, k-means to HW/γc when γc > 1. */
    kind: z.literal('reference'),
    gammaC: z.number().min(1).default(1),
    /** The reference code's sklearn KMeans(max_iter=3000). */
    kmeansMaxIter: z.number().int().positive().default(3000),
  }),
  z.strictObject({
    /** Paper Algorithm 1: k-means on the first image, then EMA with β over the rest. */
    kind: z.literal('paper'),
    gammaC: z.number().min(1).default(1),
    beta: z.number().gt(0).max(1).default(0.1),
    /** The reference code's sklearn KMeans(max_iter=3000). */
    kmeansMaxIter: z.number().int().positive().default(3000),
  }),
]);

/** `kind` defaults to 'reference', so `memoryBank: { gammaC: 4 }` is enough. */
export const MemoryBankConfigSchema = z.preprocess(
  (v) => (v && typeof v === 'object' && !Array.isArray(v) && !('kind' in v) ? { kind: 'reference', ...v } : v),
  MemoryBankVariants,
);

export const TrainingConfigSchema = z.strictObject({
  /** Paper/reference: 30 (anomalib adds early stopping); the quick default runs fewer. */
  epochs: z.number().int().nonnegative().default(30),
  batchSize: z.number().int().positive().default(4),
  /** Initial radius r (paper 1e-5). */
  r0: z.number().nonnegative().default(1e-5),
  /** The reference code learns r; the paper keeps it fixed. */
  learnRadius: z.boolean().default(true),
  shuffle: z.boolean().default(true),
  /**
   * The reference trainer's DataLoader has drop_last=True: every epoch — and the memory bank's
   * mean, computed over that loader — leaves out the n mod batchSize images its shuffle puts last.
   */
  dropLast: z.boolean().default(true),
});

/**
 * When the test set is evaluated and which number is reported. The reference code evaluates after
 * every epoch and reports, per metric, the best over the epochs ('best-on-test': it selects with
 * the test labels, so runs are tagged and tables marked); the honest default reports the last epoch.
 */
export const EvaluationConfigSchema = z.strictObject({
  selection: z.enum(['last', 'best-on-test']).default('last'),
  /** Evaluate after every epoch (logged per epoch); implied by best-on-test. */
  everyEpoch: z.boolean().default(false),
});

export const ScoringConfigSchema = z.strictObject({
  /** Neighbours in the softmin (reference K = 3). */
  K: z.number().int().positive().default(3),
  /** Reference code: Euclidean; squared available. */
  metric: DistanceMetricSchema.default('euclidean'),
  /** Gaussian σ of the map smoothing (4). */
  sigma: z.number().nonnegative().default(4),
});

/**
 * Deployable thresholds without test labels (docs/method.md, "Metrics": model selection must not
 * look at test labels): a fraction of train/good is held out of the fit, scored by the fitted
 * model, and the image and pixel thresholds are the (1 − fpr)-quantiles of its image scores and
 * map values (`thresholdAtFalsePositiveRate`). The F1-optimal thresholds on the test set stay
 * reported metrics only.
 *
 * The default holds out nothing: the reference code (and the paper) fit on every train image, and
 * the default config reproduces the reference code's numbers and its learned r, which a smaller
 * train set would change (docs/defaults.md). `holdout: 0.1` (train-eval `--holdout 0.1`) is the
 * setting for a model to deploy; without it predict writes maps and scores and needs an explicit
 * threshold for masks.
 */
export const CalibrationConfigSchema = z.strictObject({
  /** Fraction of train/good held out for the thresholds, chosen by `seed`; 0 = none (the reference protocol). */
  holdout: z.number().min(0).lt(1).default(0),
  /** Image threshold: the fraction of held-out normal images scored above it. */
  imageFpr: z.number().min(0).lt(1).default(0.01),
  /** Pixel threshold: the fraction of held-out normal pixels above it. */
  pixelFpr: z.number().min(0).lt(1).default(0.001),
});

/** The reference code's choices are the schema defaults; the paper preset lists where its text differs. */
export const PRESETS = {
  reference: {},
  paper: {
    backbone: { taps: 'torchvision' },
    descriptor: { init: 'he-normal' },
    memoryBank: { kind: 'paper' },
    loss: { negatives: 'paper' },
    training: { learnRadius: false, dropLast: false },
    view: { filter: 'bilinear' },
  },
} as const;

export const PresetSchema = z.enum(['reference', 'paper']);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The preset's fields under the explicit ones (explicit always win). */
function withPreset(input: unknown): unknown {
  if (!isObject(input) || !isObject(PRESETS[input.preset as keyof typeof PRESETS])) return input;
  const preset = PRESETS[input.preset as keyof typeof PRESETS] as Json;
  const out: Json = { ...input };
  for (const [key, fields] of Object.entries(preset)) {
    const given = input[key];
    if (given !== undefined && !isObject(given)) continue; // a wrong type is the schema's to report
    // a view needs its kind; the default view is center-crop
    const base = key === 'view' && !isObject(given) ? { kind: 'center-crop' } : {};
    out[key] = { ...base, ...(fields as Json), ...(given ?? {}) };
  }
  return out;
}

const CfaConfigObject = z
  .strictObject({
    /** Which defaults: 'reference' (the CFA reference code's, the default) or 'paper' (its text). */
    preset: PresetSchema.default('reference'),
    backbone: BackboneConfigSchema.default(BackboneConfigSchema.parse({})),
    view: ViewSchema.default(ViewSchema.parse({ kind: 'center-crop' })),
    descriptor: DescriptorConfigSchema.default(DescriptorConfigSchema.parse({})),
    memoryBank: MemoryBankConfigSchema.default(MemoryBankConfigSchema.parse({ kind: 'reference' })),
    loss: LossConfigSchema.default(LossConfigSchema.parse({})),
    optimizer: OptimizerConfigSchema.default(OptimizerConfigSchema.parse({})),
    training: TrainingConfigSchema.default(TrainingConfigSchema.parse({})),
    scoring: ScoringConfigSchema.default(ScoringConfigSchema.parse({})),
    evaluation: EvaluationConfigSchema.default(EvaluationConfigSchema.parse({})),
    calibration: CalibrationConfigSchema.default(CalibrationConfigSchema.parse({})),
    /**
     * CFA++ (paper §4.2, Tables 2, 3 and 7; docs/method.md "Data"): 'cfa++' fits a second model on the
     * resize-only companion of `view` (`companionView`: resize 256 + center-crop 224 → resize 224)
     * and scores each test image by the mean of the two anomaly maps, the companion's aligned to the
     * primary view's grid. 'none' = plain CFA on `view`. Needs a center-crop or rd-mvtec view.
     */
    ensemble: z.enum(['none', 'cfa++']).default('none'),
    /** One seed for everything random: backbone init, descriptor init, k-means, batch order. */
    seed: z.number().int().nonnegative().default(0),
  })
  .refine((c) => c.ensemble === 'none' || c.view.kind !== 'resize', {
    message:
      "ensemble 'cfa++' adds the resize-only companion of a center-crop or rd-mvtec view; a resize view has none",
    path: ['ensemble'],
  })
  .refine((c) => c.ensemble === 'none' || !evaluatesEveryEpoch(c.evaluation), {
    message:
      "per-epoch evaluation (evaluation.everyEpoch or selection 'best-on-test') follows one model's epochs; CFA++ trains two in turn",
    path: ['evaluation'],
  });

/**
 * The preset is applied first, then every field is validated. Typed with the object's own input,
 * so that config files and sweep bases keep their field types (a preprocess step alone takes
 * `unknown`).
 */
export const CfaConfigSchema: z.ZodType<
  z.output<typeof CfaConfigObject>,
  z.input<typeof CfaConfigObject>
> = z.preprocess(withPreset, CfaConfigObject) as never;

/** Whether the test set is evaluated after every epoch. */
export function evaluatesEveryEpoch(evaluation: z.infer<typeof EvaluationConfigSchema>): boolean {
  return evaluation.everyEpoch || evaluation.selection === 'best-on-test';
}

/** What a config file may write (defaults omitted). */
export type CfaConfigInput = z.input<typeof CfaConfigObject>;
/** What a run receives (defaults filled). */
export type CfaConfig = z.infer<typeof CfaConfigSchema>;
