/**
 * FYD (Zheng, Wang, Deng, Bao, Zhao, Wu 2022, "Focus Your Distribution: Coarse-to-Fine
 * Non-Contrastive Learning for Anomaly Detection and Localization", ICME 2022, arXiv 2110.04538)
 * as a method of @cfa/method-kit — re-implemented from its public description: no code of the
 * authors is public, and every choice the description leaves open is named in docs/methods/fyd.md.
 *
 * Its features are the viewed images themselves (the image-level alignment is fitted before the
 * backbone sees them), so the fit and the prediction run the frozen backbone on the aligned images;
 * the export puts the image-level transformer before the shared backbone (`lowerInput`).
 *
 * @example
 * ```ts
 * const run = await runMethodOnCategory({ method: fydMethod, config: FydConfigSchema.parse({}), root, category, engine });
 * ```
 */
import { assert } from '@cfa/tensor-runtime';
import { gaussianBytes, withinPositionShareOf } from '@cfa/memory-bank';
import type { AnomalyMethod } from '@cfa/method-kit';
import { alignmentLabel, FYD_CONFIG_FIELDS, type FydConfig, FydConfigSchema } from './config';
import { type FittedFyd, fitFyd } from './fit';
import { checkFydMember, FYD_MEMBER_FIELDS, fydMemberTensorShapes, loadFydMember, saveFydMember } from './fyd-member';
import { lowerFydInput, lowerFydMap } from './fyd-onnx';
import { predictFyd } from './predict';

export const fydMethod: AnomalyMethod<FydConfig, FittedFyd> = {
  name: 'fyd',
  label: 'FYD',
  description:
    'Zheng et al. 2022 re-implemented from its public description: coarse (image and feature spatial transformers) to fine (non-contrastive adaptor) alignment, per-position Gaussians',
  configSchema: FydConfigSchema,
  configFields: FYD_CONFIG_FIELDS,
  describeConfig: (c) =>
    [
      alignmentLabel(c.alignment),
      c.alignment.feature || c.alignment.fine ? `${c.training.epochs} epochs` : undefined,
      `D ${c.adaptor.dim}`,
    ]
      .filter(Boolean)
      .join(' · '),
  // the viewed image itself, stored as one [S, S, 3] level: the image-level alignment is fitted
  // on it before the backbone runs, so nothing downstream of the image is per-image deterministic
  createExtractor: async ({ inputSize }) => {
    const pixels = inputSize * inputSize * 3;
    return {
      kind: 'fyd:image',
      inputSize,
      levels: [{ height: inputSize, width: inputSize, channels: 3 }],
      embedPyramids: async (images, batch) => {
        assert(
          images.length === batch * pixels,
          'fyd extractor',
          () => `images must be [${batch}, ${inputSize}, ${inputSize}, 3], got ${images.length} values`,
        );
        return Array.from({ length: batch }, (_, i) => images.slice(i * pixels, (i + 1) * pixels));
      },
      release: async () => {},
    };
  },
  fit: (context) => fitFyd(context),
  predict: (context) => predictFyd(context),
  history: (model) => model.history,
  fitSeconds: (model) => model.timings,
  summary: (model) => {
    const last = model.imageHistory[model.imageHistory.length - 1];
    return {
      bankBytes: gaussianBytes(model.gaussians.positions, model.gaussians.dim),
      dim: model.gaussians.dim,
      positions: model.gaussians.positions,
      ...withinPositionShareOf(model.gaussians),
      ...(last ? { imageAlignmentLoss: last.loss, imageAlignmentLossStart: model.imageHistory[0].loss } : {}),
    };
  },
  member: {
    fields: FYD_MEMBER_FIELDS,
    save: saveFydMember,
    tensorShapes: fydMemberTensorShapes,
    check: checkFydMember,
    load: loadFydMember,
  },
  lowerMap: lowerFydMap,
  lowerInput: lowerFydInput,
};
