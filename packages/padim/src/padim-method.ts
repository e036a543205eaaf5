/**
 * PaDiM (Defard et al. 2021, arXiv 2011.08785) as a method of @cfa/method-kit: the pieces that
 * make it PaDiM — the raw layer1..3 maps as cached features, the nearest-replication embedding
 * with d random channels, a Gaussian per patch position, Mahalanobis distance maps — and nothing
 * else; running a category, ensembles, thresholds, bundles, new images and the ONNX export are
 * the kit's. Checked against the PaDiM reference code (xiahaifeng1995/PaDiM-Anomaly-Detection-
 * Localization-master at 616004b9b7fa) by fixtures its own `main.py` computed (docs/fidelity.md).
 *
 * @example
 * ```ts
 * const run = await runMethodOnCategory({ method: padimMethod, config: PadimConfigSchema.parse({}), root, category, engine });
 * ```
 */
import { backboneDefinition, inferFeatureShapes } from '@cfa/backbone';
import { createPatchEmbedder } from '@cfa/descriptor';
import { gaussianBytes, gaussianFitBytes, withinPositionShareOf } from '@cfa/memory-bank';
import type { AnomalyMethod } from '@cfa/method-kit';
import { embeddingDimensions, PADIM_CONFIG_FIELDS, type PadimConfig, PadimConfigSchema } from './config';
import { type FittedPadim, fitPadim } from './fit';
import {
  checkPadimMember,
  loadPadimMember,
  PADIM_MEMBER_FIELDS,
  padimMemberTensorShapes,
  savePadimMember,
} from './padim-member';
import { lowerPadimMap } from './padim-onnx';
import { predictPadim } from './predict';

const GIB = 1024 ** 3;

/**
 * Before any image is read: d fits the backbone's channels, and the Gaussians of this grid fit
 * `gaussianBudgetGiB`. What is kept (float32 μ and Σ⁻¹, 4·P·(d + d²) bytes) is one initializer of
 * the scoring graph and of the export, so it must also stay under ONNX's 2 GB protobuf limit; for
 * WRN50-2 at 224 with the reference's d = 550 it is 3.5 GiB (the reference code itself holds the
 * 3.8 GB of float32 covariances and inverts each position's at test time): the message says which
 * d fits.
 */
export function assertGaussiansFit(config: PadimConfig, grid: { height: number; width: number; label: string }): void {
  const d = embeddingDimensions(config);
  const def = backboneDefinition(config.backbone.name, config.backbone.taps);
  const total = inferFeatureShapes(def, 64).reduce((n, f) => n + f.channels, 0);
  if (d > total)
    throw new Error(
      `dimensions: ${d} channels asked of ${config.backbone.name}, whose layer1..3 embedding has ${total}`,
    );
  const P = grid.height * grid.width;
  const budget = config.gaussianBudgetGiB * GIB;
  if (gaussianBytes(P, d) > budget) {
    let fits = d;
    while (fits > 1 && gaussianBytes(P, fits) > budget) fits--;
    throw new Error(
      `dimensions: PaDiM's Gaussians for ${grid.label} (${grid.height}×${grid.width} positions, d = ${d}) keep ` +
        `${(gaussianBytes(P, d) / GIB).toFixed(1)} GiB (mean + Σ⁻¹ as float32; ${(gaussianFitBytes(P, d) / GIB).toFixed(1)} GiB ` +
        `while fitting), over gaussianBudgetGiB = ${config.gaussianBudgetGiB}; d ≤ ${fits} fits, or raise the budget ` +
        `(the scoring graph and the ONNX export hold them as one initializer: at most 2 GB)`,
    );
  }
}

export const padimMethod: AnomalyMethod<PadimConfig, FittedPadim> = {
  name: 'padim',
  label: 'PaDiM',
  description: 'Defard et al. 2021, a Gaussian per patch position, Mahalanobis distance',
  configSchema: PadimConfigSchema,
  configFields: PADIM_CONFIG_FIELDS,
  describeConfig: (c) => `d ${embeddingDimensions(c)} · ε ${c.epsilon} · σ ${c.sigma}`,
  checkGrid: assertGaussiansFit,
  // the raw layer maps (no pooling): what PaDiM's embedding reads, per image and deterministic
  createExtractor: async ({ engine, backbone, inputSize }) => {
    const embedder = await createPatchEmbedder({ engine, backbone, inputSize, pooling: 'none' });
    return {
      kind: 'raw-maps',
      inputSize,
      levels: embedder.levels,
      embedPyramids: (images, batch) => embedder.embedPyramids(images, batch),
      release: () => embedder.release(),
    };
  },
  fit: ({ config, engine, train, onProgress }) => fitPadim({ config, engine, train, onProgress }),
  predict: (context) => predictPadim(context),
  history: () => [],
  fitSeconds: (model) => ({ bankSeconds: model.seconds, trainSeconds: 0 }),
  summary: (model) => ({
    bankBytes: gaussianBytes(model.gaussians.positions, model.gaussians.dim),
    bankSize: model.gaussians.positions,
    dimensions: model.gaussians.dim,
    ...withinPositionShareOf(model.gaussians),
  }),
  member: {
    fields: PADIM_MEMBER_FIELDS,
    save: savePadimMember,
    tensorShapes: padimMemberTensorShapes,
    check: checkPadimMember,
    load: loadPadimMember,
  },
  lowerMap: lowerPadimMap,
};
