/**
 * The CRAD run configuration. Every default is the CRAD reference code's
 * (`tae-mo/CRAD` `experiments/config.yaml`, which produced its README's 99.3 / 97.8): EfficientNet-B4
 * with out-layers 3 and 4 and the MFCN neck to stride 8, a 224 × 224 resize (bilinear), local grid
 * 8², global grid 4², 11 MobileNetV3 bottlenecks of width 864 (`ch_exp`; 216 is the reference's
 * CRAD-S, `config_crad-s.yaml`), the blend λ 0.3 / 0.7 with mse_coef 0.05, coordinate noise σ 0.05
 * on half the steps, AdamW at 0.1 for the grids and 0.001 for the network, gradient clipping at
 * 0.1, StepLR (40, 0.1), batch 16, 50 epochs; evaluation smooths maps with a 21 × 21 box and scores
 * images by the maximum 32 × 32 window mean.
 *
 * `training.unified: true` is the paper's unified (multi-class) setting: one model fitted on the
 * train images of every category of a sweep, evaluated on each (method-kit `runMethodOnCategories`).
 *
 * @example
 * ```ts
 * const config = CradConfigSchema.parse({ decoder: { expansion: 216 }, training: { epochs: 5 } });
 * ```
 */
import { z } from 'zod';
import { viewDefaultingTo, ViewSchema } from '@cfa/data';
import { ReconstructionBlendSchema } from '@cfa/scoring';
import {
  backboneConfigSchema,
  checkCommonFields,
  commonConfigFields,
  EvaluationConfigSchema,
  methodLiteral,
} from '@cfa/method-kit';

/** EfficientNet-B4 as the reference code vendors it (EfficientNet-PyTorch, out-layers 3 and 4). */
export const BackboneConfigSchema = backboneConfigSchema({ name: 'efficientnet_b4', taps: 'reference' });

/** The continuous memory's two grids (@cfa/memory-bank continuous-memory.ts). */
export const MemoryConfigSchema = z.strictObject({
  /** Side of the local grid (`local_resol`). */
  localResolution: z.number().int().min(2).default(8),
  /** Side of the global grid (`global_resol`). */
  globalResolution: z.number().int().min(2).default(4),
});

/** The reconstruction network (@cfa/descriptor bottleneck-decoder.ts). */
export const DecoderConfigSchema = z.strictObject({
  /** MobileNetV3 bottlenecks (`layers`). */
  layers: z.number().int().nonnegative().default(11),
  /** Their expanded width (`ch_exp`): 864 (CRAD), 216 (CRAD-S). */
  expansion: z.number().int().min(4).default(864),
});

export const ScoringConfigSchema = ReconstructionBlendSchema.extend({
  /** Side of the box filter the evaluator smooths maps with (`EvalDataMeta`: avg_pool2d 21); 1 = none. */
  smoothing: z
    .number()
    .int()
    .positive()
    .refine((v) => v % 2 === 1, 'the box side must be odd')
    .default(21),
  /** Side of the windows whose largest mean is the image score (`EvalImageMax` avgpool_size 32). */
  imagePool: z.number().int().positive().default(32),
});

export const TrainingConfigSchema = z.strictObject({
  /** The reference's max_epoch (sweeps on 2 CPU cores run fewer, and say so). */
  epochs: z.number().int().nonnegative().default(50),
  batchSize: z.number().int().positive().default(16),
  /** Learning rate of the two grids (`grid_lr`). */
  gridLr: z.number().positive().default(0.1),
  /** Learning rate of everything else (`net_lr`). */
  netLr: z.number().positive().default(0.001),
  /** AdamW's weight decay (torch's default, which the reference keeps). */
  weightDecay: z.number().nonnegative().default(0.01),
  /** `clip_grad_norm_` over all parameters (`clip_max_norm`); 0 = none. */
  clipMaxNorm: z.number().nonnegative().default(0.1),
  /** StepLR (`step_size`, `gamma`), stepped as `scheduler.step(epoch)` after each epoch. */
  lrStepSize: z.number().int().positive().default(40),
  lrGamma: z.number().positive().default(0.1),
  /** σ of the Gaussian noise on the local coordinates (`noise_std`). */
  noiseStd: z.number().nonnegative().default(0.05),
  /** Chance that a training step adds the noise (the reference draws `torch.rand(1) < 0.5` per step). */
  noiseProbability: z.number().min(0).max(1).default(0.5),
  /** A new order each epoch (DistributedSampler's shuffle); the last batch may be short (no drop_last). */
  shuffle: z.boolean().default(true),
  /**
   * The unified (multi-class) setting: one model fitted on the union of every category of the
   * sweep (categories mixed in batches), evaluated on each; false = one model per category.
   */
  unified: z.boolean().default(false),
});

const common = commonConfigFields();

const CradConfigObject = z.strictObject({
  method: methodLiteral('crad'),
  backbone: BackboneConfigSchema,
  /** The reference resizes every image to 224 × 224 (torchvision Resize, bilinear). */
  view: viewDefaultingTo(ViewSchema.parse({ kind: 'resize', size: 224, filter: 'bilinear' })),
  memory: MemoryConfigSchema.prefault({}),
  decoder: DecoderConfigSchema.prefault({}),
  scoring: ScoringConfigSchema.prefault({}),
  training: TrainingConfigSchema.prefault({}),
  evaluation: EvaluationConfigSchema.prefault({}),
  calibration: common.calibration,
  ensemble: common.ensemble,
  seed: common.seed,
});

/** The top-level fields of a CRAD config (a field of another method's is named as such). */
export const CRAD_CONFIG_FIELDS = Object.keys(CradConfigObject.shape);

export const CradConfigSchema = CradConfigObject.superRefine(checkCommonFields);

/** What a config file may write (defaults omitted). */
export type CradConfigInput = z.input<typeof CradConfigObject>;
/** What a run receives (defaults filled). */
export type CradConfig = z.infer<typeof CradConfigSchema>;
