/**
 * The FYD run configuration. FYD (Zheng et al. 2022, arXiv 2110.04538) has no public code, so no
 * default here is "the authors'": each is our choice where the public description is silent, and
 * docs/methods/fyd.md names it as an assumption. `alignment` switches the three trained stages
 * (the ablation of experiments/fyd-ablation.yaml): with all three off the model is the
 * per-position Gaussian of a fixed random 1×1 projection of the backbone maps (PaDiM-like).
 *
 * @example
 * ```ts
 * const config = FydConfigSchema.parse({ alignment: { fine: false }, training: { epochs: 2 } });
 * ```
 */
import { z } from 'zod';
import { OptimizerConfigSchema } from '@cfa/tensor-runtime';
import {
  backboneConfigSchema,
  checkCommonFields,
  commonConfigFields,
  EvaluationConfigSchema,
  methodLiteral,
} from '@cfa/method-kit';

export const AlignmentStagesSchema = z.strictObject({
  /** Image-level coarse alignment: a spatial transformer on the image, trained with the pairwise pixel loss. */
  image: z.boolean().default(true),
  /** Feature-level coarse alignment: one spatial transformer per backbone map, trained by the fine-alignment loss. */
  feature: z.boolean().default(true),
  /** Fine alignment: the adaptor trained with the non-contrastive dense loss (else a fixed random projection). */
  fine: z.boolean().default(true),
});
export type AlignmentStages = z.infer<typeof AlignmentStagesSchema>;

/** The ablation's rows by name (`alignment: coarse`), for sweep axes. */
export const ALIGNMENT_PRESETS = {
  none: { image: false, feature: false, fine: false },
  image: { image: true, feature: false, fine: false },
  coarse: { image: true, feature: true, fine: false },
  'coarse+fine': { image: true, feature: true, fine: true },
} as const satisfies Record<string, AlignmentStages>;
type AlignmentPreset = keyof typeof ALIGNMENT_PRESETS;

/** The stages as an object, or one of `ALIGNMENT_PRESETS` by name. */
export const AlignmentSchema = z
  .union(
    [
      z
        .enum(Object.keys(ALIGNMENT_PRESETS) as [AlignmentPreset, ...AlignmentPreset[]])
        .transform((name): AlignmentStages => ({ ...ALIGNMENT_PRESETS[name] })),
      AlignmentStagesSchema,
    ],
    {
      error: `expected one of ${Object.keys(ALIGNMENT_PRESETS).join(', ')}, or the stages { image, feature, fine } as booleans`,
    },
  )
  .default({ ...ALIGNMENT_PRESETS['coarse+fine'] });

export const TransformerConfigSchema = z.strictObject({
  /** Largest shift of a pose, in normalised coordinates (1 = half the side). */
  maxShift: z.number().min(0).max(1).default(0.25),
  /**
   * Largest |log scale| of a pose (0.1: ±10 %). 0 by default: with a scale the pairwise pixel loss
   * is lowered by zooming every image out alike (measured on bolt: one constant pose for all).
   */
  maxLogScale: z.number().min(0).max(1).default(0),
  /** Whether poses may rotate (the embedded default's bolt, chestnut, washer and vial lie at any angle). */
  rotation: z.boolean().default(true),
  /** What the image transformer reads outside the image: the clamped border (the plate), or zeros. */
  imagePadding: z.enum(['zeros', 'border']).default('border'),
  /** The image transformer reads the image area-pooled to this side. */
  imagePool: z.number().int().positive().default(16),
  /** Each feature transformer reads its map area-pooled to this side. */
  featurePool: z.number().int().positive().default(4),
  /** Hidden width of every localisation network. */
  hidden: z.number().int().positive().default(32),
});

export const ImageAlignmentConfigSchema = z.strictObject({
  epochs: z.number().int().nonnegative().default(60),
  batchSize: z.number().int().min(2).default(8),
  /** The pairwise pixel loss compares the images area-pooled to this side (a blur that widens the basin). */
  lossSize: z.number().int().positive().default(32),
  /** The stage's own learning rate (the rest of `optimizer` is shared). */
  lr: z.number().positive().default(3e-3),
});

export const TrainingConfigSchema = z.strictObject({
  /** Epochs of the feature-level + fine stage. */
  epochs: z.number().int().nonnegative().default(10),
  /** Images per batch: the corresponding locations the dense loss compares (at least 2). */
  batchSize: z.number().int().min(2).default(8),
  shuffle: z.boolean().default(true),
});

export const AdaptorConfigSchema = z.strictObject({
  /** D: the adaptor's output, what the Gaussians model (PaDiM keeps 100 channels of ResNet-18). */
  dim: z.number().int().positive().default(100),
  /** The predictor's hidden width (SimSiam's bottleneck: D/4). */
  predictorHidden: z.number().int().positive().default(25),
});

export const GaussianConfigSchema = z.strictObject({
  /** εI added to every covariance (PaDiM's 0.01). */
  epsilon: z.number().positive().default(0.01),
});

export const ScoringConfigSchema = z.strictObject({
  /** Gaussian σ of the map smoothing (PaDiM's 4). */
  sigma: z.number().nonnegative().default(4),
});

/** AdamW for both stages; plain Adam by default (no AMSGrad, no weight decay: our choice, docs/methods/fyd.md). */
export const FydOptimizerSchema = OptimizerConfigSchema.extend({
  amsgrad: z.boolean().default(false),
  weightDecay: z.number().nonnegative().default(0),
});

const common = commonConfigFields();

const FydConfigObject = z.strictObject({
  method: methodLiteral('fyd'),
  /** ResNet-18's post-ReLU layer1–3 (torchvision taps), the maps PaDiM models. */
  backbone: backboneConfigSchema({ name: 'resnet18', taps: 'torchvision' }),
  view: common.view,
  alignment: AlignmentSchema,
  transformer: TransformerConfigSchema.prefault({}),
  imageAlignment: ImageAlignmentConfigSchema.prefault({}),
  training: TrainingConfigSchema.prefault({}),
  optimizer: FydOptimizerSchema.prefault({}),
  adaptor: AdaptorConfigSchema.prefault({}),
  gaussian: GaussianConfigSchema.prefault({}),
  scoring: ScoringConfigSchema.prefault({}),
  evaluation: EvaluationConfigSchema.prefault({}),
  calibration: common.calibration,
  ensemble: common.ensemble,
  seed: common.seed,
});

/** The top-level fields of an FYD config (a field of another method's is named as such). */
export const FYD_CONFIG_FIELDS = Object.keys(FydConfigObject.shape);

export const FydConfigSchema = FydConfigObject.superRefine(checkCommonFields);
export type FydConfig = z.infer<typeof FydConfigSchema>;
export type FydConfigInput = z.input<typeof FydConfigSchema>;

/** What a config trains: the ablation row it is. */
export function alignmentLabel(stages: AlignmentStages): string {
  const coarse = [stages.image && 'image', stages.feature && 'feature'].filter(Boolean).join('+');
  if (!coarse && !stages.fine) return 'no alignment';
  return [coarse && `coarse (${coarse})`, stages.fine && 'fine'].filter(Boolean).join(' + ');
}
