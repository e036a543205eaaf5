/**
 * The CFA run configuration: one validated object from which a fit is a pure function (same
 * config + same data → same numbers). Every field has the default of the paper or of the
 * reference code, named in its comment; sweep files override fields of it.
 *
 * @example
 * ```ts
 * const config = CfaConfigSchema.parse({ backbone: { name: 'resnet18' }, training: { epochs: 3 } });
 * ```
 */
import { z } from 'zod';
import { ViewSchema } from '@cfa/data';
import { availableBackbones } from '@cfa/backbone';
import { DistanceMetricSchema, LossConfigSchema } from '@cfa/scoring';
import { OptimizerConfigSchema } from './adamw';

export const BackboneConfigSchema = z.strictObject({
  name: z.enum(availableBackbones() as [string, ...string[]]).default('resnet18'),
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
  init: z.enum(['he-normal', 'torch-default']).default('he-normal'),
});

const MemoryBankVariants = z.discriminatedUnion('kind', [
  z.strictObject({
    /** Reference code: per-location mean of φ over the train set, k-means to HW/γc when γc > 1. */
    kind: z.literal('reference'),
    gammaC: z.number().min(1).default(1),
    kmeansMaxIter: z.number().int().positive().default(300),
  }),
  z.strictObject({
    /** Paper Algorithm 1: k-means on the first image, then EMA with β over the rest. */
    kind: z.literal('paper'),
    gammaC: z.number().min(1).default(1),
    beta: z.number().gt(0).max(1).default(0.1),
    kmeansMaxIter: z.number().int().positive().default(300),
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
 * Deployable thresholds without test labels (cfa-spec.md, "Model selection must not look at test
 * labels"): a fraction of train/good is held out of the fit, scored by the fitted model, and the
 * image and pixel thresholds are the (1 − fpr)-quantiles of its image scores and map values
 * (`thresholdAtFalsePositiveRate`). The F1-optimal thresholds on the test set stay reported
 * metrics only. `holdout: 0` trains on every train image (as the reference code does) and sets no
 * threshold; predict then writes maps and scores and needs an explicit threshold for masks.
 */
export const CalibrationConfigSchema = z.strictObject({
  /** Fraction of train/good held out for the thresholds, chosen by `seed`; 0 = none. */
  holdout: z.number().min(0).lt(1).default(0.1),
  /** Image threshold: the fraction of held-out normal images scored above it. */
  imageFpr: z.number().min(0).lt(1).default(0.01),
  /** Pixel threshold: the fraction of held-out normal pixels above it. */
  pixelFpr: z.number().min(0).lt(1).default(0.001),
});

export const CfaConfigSchema = z
  .strictObject({
    backbone: BackboneConfigSchema.default(BackboneConfigSchema.parse({})),
    view: ViewSchema.default(ViewSchema.parse({ kind: 'center-crop' })),
    descriptor: DescriptorConfigSchema.default(DescriptorConfigSchema.parse({})),
    memoryBank: MemoryBankConfigSchema.default(MemoryBankConfigSchema.parse({ kind: 'reference' })),
    loss: LossConfigSchema.default(LossConfigSchema.parse({})),
    optimizer: OptimizerConfigSchema.default(OptimizerConfigSchema.parse({})),
    training: TrainingConfigSchema.default(TrainingConfigSchema.parse({})),
    scoring: ScoringConfigSchema.default(ScoringConfigSchema.parse({})),
    calibration: CalibrationConfigSchema.default(CalibrationConfigSchema.parse({})),
    /**
     * CFA++ (paper §4.2, Tables 2, 3 and 7; cfa-spec.md "Data"): 'cfa++' fits a second model on the
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
  });

/** What a config file may write (defaults omitted). */
export type CfaConfigInput = z.input<typeof CfaConfigSchema>;
/** What a run receives (defaults filled). */
export type CfaConfig = z.infer<typeof CfaConfigSchema>;
