/**
 * The PatchCore run configuration. Every default is the authors' code's
 * (amazon-science/patchcore-inspection, `bin/run_patchcore.py` as `sample_training.sh` runs it for
 * the paper's IM224 baseline: `-b wideresnet50 -le layer2 -le layer3 --pretrain_embed_dimension 1024
 * --target_embed_dimension 1024 --anomaly_scorer_num_nn 1 --patchsize 3 sampler -p 0.1
 * approx_greedy_coreset dataset --resize 256 --imagesize 224`), with torchvision's post-ReLU layer
 * outputs as the taps and torchvision's `Resize` (Pillow's bilinear) as the view's filter.
 * docs/patchcore.md lists them with where the paper's text differs.
 *
 * @example
 * ```ts
 * const config = PatchCoreConfigSchema.parse({ method: 'patchcore', coreset: { fraction: 0.01 } });
 * ```
 */
import { z } from 'zod';
import { viewDefaultingTo, ViewSchema } from '@cfa/data';
import { CORESET_PROJECTION_DIM, CORESET_START_POINTS } from '@cfa/memory-bank';
import { backboneConfigSchema, checkCommonFields, commonConfigFields, methodLiteral } from '@cfa/method-kit';

const positiveInt = z.number().int().positive();

export const EmbeddingConfigSchema = z.strictObject({
  /** Side p of the local neighbourhood each patch aggregates (`--patchsize`, 3). */
  patchSize: positiveInt.refine((p) => p % 2 === 1, 'patchSize must be odd (the neighbourhood is centred)').default(3),
  /** Each layer's neighbourhood pooled to this many values (`--pretrain_embed_dimension`, 1024). */
  preDim: positiveInt.default(1024),
  /** The layers' vectors pooled together to this many (`--target_embed_dimension`, 1024). */
  targetDim: positiveInt.default(1024),
});

export const CoresetConfigSchema = z.strictObject({
  /** Fraction of the train patches kept (`sampler -p`: 0.1; the paper also reports 0.01). 1 keeps all (the reference's identity sampler). */
  fraction: z.number().gt(0).max(1).default(0.1),
  /** The random projection's dimension (`dimension_to_project_features_to`, 128). */
  projectionDim: positiveInt.default(CORESET_PROJECTION_DIM),
  /** Random starting points of the approximate greedy search (`number_of_starting_points`, 10). */
  startPoints: positiveInt.default(CORESET_START_POINTS),
});

export const ScoringConfigSchema = z.strictObject({
  /** Nearest bank entries averaged into a patch score (`--anomaly_scorer_num_nn`, 1 in every paper run). */
  neighbours: positiveInt.default(1),
  /** Gaussian σ of the map smoothing (`RescaleSegmentor.smoothing`, 4). */
  sigma: z.number().nonnegative().default(4),
});

/** view, calibration, ensemble and seed: @cfa/method-kit's. */
const common = commonConfigFields();

const PatchCoreConfigObject = z.strictObject({
  method: methodLiteral('patchcore'),
  /** WRN50-2 with torchvision's taps, as the reference code loads it (`models.wide_resnet50_2`). */
  backbone: backboneConfigSchema({ name: 'wide_resnet50_2', taps: 'torchvision' }),
  /** The backbone's tapped maps aggregated, the patch grid's first (`-le layer2 -le layer3`). */
  layers: z.array(z.string().min(1)).min(1).default(['layer2', 'layer3']),
  embedding: EmbeddingConfigSchema.prefault({}),
  coreset: CoresetConfigSchema.prefault({}),
  scoring: ScoringConfigSchema.prefault({}),
  /** The reference's `Resize(256)` + `CenterCrop(224)`: torchvision resizes with Pillow's bilinear. */
  view: viewDefaultingTo(ViewSchema.parse({ kind: 'center-crop', filter: 'bilinear' })),
  calibration: common.calibration,
  ensemble: common.ensemble,
  /** The coreset's projection and starting points (the only random draws) and the random-init backbone. */
  seed: common.seed,
});

/** The top-level fields of a PatchCore config (a field of another method's is named as such). */
export const PATCHCORE_CONFIG_FIELDS = Object.keys(PatchCoreConfigObject.shape);

export const PatchCoreConfigSchema = PatchCoreConfigObject.superRefine(checkCommonFields);

/** What a config file may write (defaults omitted). */
export type PatchCoreConfigInput = z.input<typeof PatchCoreConfigObject>;
/** What a run receives (defaults filled). */
export type PatchCoreConfig = z.infer<typeof PatchCoreConfigSchema>;
