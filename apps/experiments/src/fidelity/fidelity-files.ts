/**
 * The two files of the fidelity check (issue #15, docs/fidelity.md): `experiments/fidelity/setup.yaml`
 * says what is compared — the method, a seeded synthetic dataset, seeded random-init backbone
 * weights, epochs and seeds — and the results file written by `tools/torch-reference/official_run.py`
 * (CFA) or `patchcore_run.py` (PatchCore) holds what the reference code itself measured on exactly
 * that data and those weights (it records their sha256, which the check verifies before it compares
 * anything).
 */
import { z } from 'zod';
import { SyntheticConfigSchema } from '@cfa/data';

export const FidelitySetupSchema = z.strictObject({
  /**
   * Whose reference: CFA's (per epoch, with the learned radius r) or PatchCore's (one row set: the
   * fitted model, no epochs and no r; `epochs` is then 1).
   */
  method: z.enum(['cfa', 'patchcore', 'crad']).default('cfa'),
  /** The dataset: the embedded generator with a fixed config (its files' digest is checked). */
  dataset: z.strictObject({
    root: z.string().min(1),
    category: z.string().min(1),
    synthetic: SyntheticConfigSchema.omit({ categories: true }).partial(),
    /**
     * Every image and mask resampled to this size after generation (bilinear / nearest, our own
     * resampling, so the files are the same on every machine): a non-square size makes both codes
     * go through their whole preprocessing — Pillow's Lanczos on 8-bit images, the short side to
     * 256, the centre crop of a non-square image.
     */
    resizeTo: z.strictObject({ width: z.number().int().min(32), height: z.number().int().min(32) }).optional(),
  }),
  /** Backbone and the seed of its random init (written as a `.safetensors` for both codes). */
  backbone: z.strictObject({
    name: z.string().min(1),
    weightsSeed: z.number().int().nonnegative().default(0),
    weightsFile: z.string().min(1),
  }),
  epochs: z.number().int().positive(),
  /** Our seeds; the reference's are in the results file (torch's RNG is not ours: only spreads compare). */
  seeds: z.array(z.number().int().nonnegative()).min(1),
  /** The reference code's results (official_run.py). */
  official: z.string().min(1),
  /** Overrides of the default run config (empty: the default config is the reference protocol). */
  cfa: z.record(z.string(), z.unknown()).default({}),
  /** The same for `method: patchcore` (empty: PatchCore's defaults are its authors' settings). */
  patchcore: z.record(z.string(), z.unknown()).default({}),
  /** Overrides of CRAD's default config (method 'crad'): the sizes the reference run was given. */
  crad: z.record(z.string(), z.unknown()).default({}),
});
export type FidelitySetup = z.infer<typeof FidelitySetupSchema>;

export const FIDELITY_METRICS = ['imageAuroc', 'pixelAuroc', 'pixelAupro', 'pixelProReference'] as const;
export type FidelityMetric = (typeof FIDELITY_METRICS)[number];

/** Epoch 0 = evaluated before the first step (the untrained descriptor; official_run.py --untrained). */
export const EpochSchema = z.object({
  epoch: z.number().int().nonnegative(),
  imageAuroc: z.number(),
  pixelAuroc: z.number(),
  pixelAupro: z.number(),
  pixelProReference: z.number(),
  /** CFA's learned radius; absent for a method without one (PatchCore). */
  radius: z.number().optional(),
});

/** What every reference driver records of the inputs it read (the check compares the digests). */
export const REFERENCE_INPUT_FIELDS = {
  weights: z.object({ file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  data: z.object({ category: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
};

export const OfficialResultsSchema = z.object({
  official: z.object({ repository: z.string(), commit: z.string(), patches: z.array(z.string()) }),
  torch: z.string(),
  settings: z.object({ category: z.string(), cnn: z.string(), epochs: z.number().int(), seeds: z.array(z.number()) }),
  ...REFERENCE_INPUT_FIELDS,
  runs: z
    .array(
      z.object({
        seed: z.number(),
        epochs: z.array(EpochSchema).min(1),
        untrained: EpochSchema.omit({ epoch: true }).optional(),
      }),
    )
    .min(1),
});
export type OfficialResults = z.infer<typeof OfficialResultsSchema>;
export type FidelityEpoch = z.infer<typeof EpochSchema>;

/** Each run's epochs, after its untrained evaluation as epoch 0 when every run has one. */
export function officialEpochs(results: OfficialResults): { seed: number; epochs: FidelityEpoch[] }[] {
  const untrained = results.runs.every((r) => r.untrained);
  return results.runs.map((r) => ({
    seed: r.seed,
    epochs: untrained && r.untrained ? [{ epoch: 0, ...r.untrained }, ...r.epochs] : r.epochs,
  }));
}
