/**
 * The PaDiM run configuration (Defard et al. 2021). Defaults are the PaDiM reference code's
 * (xiahaifeng1995/PaDiM-Anomaly-Detection-Localization-master at 616004b9b7fa, `main.py`):
 * torchvision's post-ReLU layer1..3 maps, d = 100 random embedding channels for ResNet-18 and 550
 * for WRN50-2, ε = 0.01 on every covariance's diagonal, σ = 4 for the map's Gaussian blur. The
 * reference's own default architecture is WRN50-2; ours is ResNet-18 (its README's first
 * column), because WRN50-2's Gaussians at 550 dimensions hold 56·56·550² ≈ 0.95 G floats (3.5 GiB
 * as float32) — over the `gaussianBudgetGiB` a run holds (see docs/method-comparison.md).
 * PaDiM does not train: there is no `training` and no `evaluation`.
 *
 * @example
 * ```ts
 * const config = PadimConfigSchema.parse({ method: 'padim', dimensions: 50, seed: 1 });
 * embeddingDimensions(config); // 50
 * ```
 */
import { z } from 'zod';
import { backboneConfigSchema, checkCommonFields, commonConfigFields, methodLiteral } from '@cfa/method-kit';

/** The reference code's d per architecture (`main.py`: `t_d, d = 448, 100` / `1792, 550`). */
export const REFERENCE_DIMENSIONS: Readonly<Record<string, number>> = { resnet18: 100, wide_resnet50_2: 550 };

const PadimConfigObject = z.strictObject({
  method: methodLiteral('padim'),
  backbone: backboneConfigSchema({ name: 'resnet18', taps: 'torchvision' }),
  /**
   * d: how many of the embedding's channels are kept (a seeded random subset, paper §3.2 "Rd");
   * 'reference' = the reference code's d for its two architectures (resnet18 100,
   * wide_resnet50_2 550).
   */
  dimensions: z.union([z.literal('reference'), z.number().int().positive()]).default('reference'),
  /** ε: added to every covariance's diagonal (the reference code: 0.01 · I). */
  epsilon: z.number().positive().default(0.01),
  /** Gaussian σ of the anomaly map's blur (the reference code: `gaussian_filter(…, sigma=4)`). */
  sigma: z.number().nonnegative().default(4),
  /**
   * The most the kept Gaussians (float32 μ and Σ⁻¹) may take, in GiB: a config over it is refused
   * before any image is read, naming `dimensions`. The fit holds about twice as much (float64
   * sums). ONNX Runtime's scoring graph and the export hold them as one initializer, and an ONNX
   * model file stops at 2 GB.
   */
  gaussianBudgetGiB: z.number().positive().max(1.8).default(1.5),
  ...commonConfigFields(),
});

/** The top-level fields of a PaDiM config (a field of another method's is named as such). */
export const PADIM_CONFIG_FIELDS = Object.keys(PadimConfigObject.shape);

export const PadimConfigSchema = PadimConfigObject.superRefine((config, ctx) => {
  checkCommonFields(config, ctx);
  if (config.dimensions === 'reference' && REFERENCE_DIMENSIONS[config.backbone.name] === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['dimensions'],
      message: `'reference' is the PaDiM reference code's d for ${Object.entries(REFERENCE_DIMENSIONS)
        .map(([b, d]) => `${b} (${d})`)
        .join(' and ')}; give a number of channels for ${config.backbone.name}`,
    });
});

export type PadimConfigInput = z.input<typeof PadimConfigObject>;
export type PadimConfig = z.infer<typeof PadimConfigSchema>;

/** d: the number of embedding channels the config keeps. */
export function embeddingDimensions(config: Pick<PadimConfig, 'dimensions' | 'backbone'>): number {
  return config.dimensions === 'reference' ? REFERENCE_DIMENSIONS[config.backbone.name] : config.dimensions;
}
