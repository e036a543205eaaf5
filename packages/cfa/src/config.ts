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
import { DistanceMetricSchema, LossConfigSchema } from '@cfa/scoring';
import {
  backboneConfigSchema,
  checkCommonFields,
  commonConfigFields,
  EvaluationConfigSchema,
  methodLiteral,
} from '@cfa/method-kit';

/**
 * ResNet-18 with the reference code's taps ('reference' = its leaky-ReLU ResNet maps and its
 * EfficientNet-PyTorch B5, which every number of the paper comes from; 'torchvision' =
 * torchvision's post-ReLU layer outputs, what anomalib's timm extractor gives).
 */
export const BackboneConfigSchema = backboneConfigSchema({ name: 'resnet18', taps: 'reference' });

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

export const ScoringConfigSchema = z.strictObject({
  /** Neighbours in the softmin (reference K = 3). */
  K: z.number().int().positive().default(3),
  /** Reference code: Euclidean; squared available. */
  metric: DistanceMetricSchema.default('euclidean'),
  /** Gaussian σ of the map smoothing (4). */
  sigma: z.number().nonnegative().default(4),
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

/** view, calibration, ensemble (CFA++: paper §4.2, Tables 2, 3 and 7) and seed: @cfa/method-kit's. */
const common = commonConfigFields();

const CfaConfigObject = z.strictObject({
  method: methodLiteral('cfa'),
  /** Which defaults: 'reference' (the CFA reference code's, the default) or 'paper' (its text). */
  preset: PresetSchema.default('reference'),
  backbone: BackboneConfigSchema,
  view: common.view,
  descriptor: DescriptorConfigSchema.default(DescriptorConfigSchema.parse({})),
  memoryBank: MemoryBankConfigSchema.default(MemoryBankConfigSchema.parse({ kind: 'reference' })),
  loss: LossConfigSchema.default(LossConfigSchema.parse({})),
  optimizer: OptimizerConfigSchema.default(OptimizerConfigSchema.parse({})),
  training: TrainingConfigSchema.default(TrainingConfigSchema.parse({})),
  scoring: ScoringConfigSchema.default(ScoringConfigSchema.parse({})),
  evaluation: EvaluationConfigSchema.default(EvaluationConfigSchema.parse({})),
  calibration: common.calibration,
  ensemble: common.ensemble,
  seed: common.seed,
});

/** The top-level fields of a CFA config (a field of another method's is named as such). */
export const CFA_CONFIG_FIELDS = Object.keys(CfaConfigObject.shape);

/**
 * The preset is applied first, then every field is validated. Typed with the object's own input,
 * so that config files and sweep bases keep their field types (a preprocess step alone takes
 * `unknown`).
 */
export const CfaConfigSchema: z.ZodType<
  z.output<typeof CfaConfigObject>,
  z.input<typeof CfaConfigObject>
> = z.preprocess(withPreset, CfaConfigObject.superRefine(checkCommonFields)) as never;

/** What a config file may write (defaults omitted). */
export type CfaConfigInput = z.input<typeof CfaConfigObject>;
/** What a run receives (defaults filled). */
export type CfaConfig = z.infer<typeof CfaConfigSchema>;
