/**
 * PatchCore (Roth, Pemula, Zepeda, Schölkopf, Brox, Gehler 2022, "Towards Total Recall in
 * Industrial Anomaly Detection", CVPR) as a method of @cfa/method-kit, as its authors' code
 * (amazon-science/patchcore-inspection) computes it: the pieces that make it PatchCore — locally
 * aware patch features as the cached features, the approximate greedy coreset as the fit, nearest
 * squared distances as patch scores, the largest patch score as the image score — and nothing
 * else; running a category, ensembles, thresholds, bundles, new images and the ONNX export are the
 * kit's.
 *
 * @example
 * ```ts
 * const run = await runMethodOnCategory({ method: patchcoreMethod, config: PatchCoreConfigSchema.parse({}), root, category, engine });
 * ```
 */
import type { AnomalyMethod } from '@cfa/method-kit';
import { PATCHCORE_CONFIG_FIELDS, type PatchCoreConfig, PatchCoreConfigSchema } from './config';
import { createPatchCoreExtractor } from './extractor';
import { type FittedPatchCore, fitPatchCore } from './fit';
import {
  checkPatchCoreMember,
  loadPatchCoreMember,
  PATCHCORE_MEMBER_FIELDS,
  patchCoreMemberTensorShapes,
  savePatchCoreMember,
} from './patchcore-member';
import { lowerPatchCoreMap } from './patchcore-onnx';
import { predictPatchCore } from './predict';

const percent = (f: number) => `${+(100 * f).toPrecision(3)} %`;

export const patchcoreMethod: AnomalyMethod<PatchCoreConfig, FittedPatchCore> = {
  name: 'patchcore',
  label: 'PatchCore',
  description: 'Roth et al. 2022, nearest neighbours in a greedy coreset of locally aware patch features',
  configSchema: PatchCoreConfigSchema,
  configFields: PATCHCORE_CONFIG_FIELDS,
  describeConfig: (c) =>
    [
      `coreset ${percent(c.coreset.fraction)}`,
      c.layers.join('+'),
      `${c.embedding.preDim}>${c.embedding.targetDim}`,
      `k ${c.scoring.neighbours}`,
    ].join(' · '),
  createExtractor: createPatchCoreExtractor,
  fit: ({ config, engine, train, onProgress }) => fitPatchCore({ config, engine, train, onProgress }),
  predict: (context) => predictPatchCore(context),
  history: () => [],
  fitSeconds: (model) => ({ bankSeconds: model.seconds, trainSeconds: 0 }),
  summary: (model) => ({
    bankSize: model.bank.size,
    bankBytes: 4 * model.bank.size * model.bank.dim,
    trainPatches: model.coreset.trainPatches,
    coresetProjectSeconds: model.coreset.projectSeconds,
    coresetSelectSeconds: model.coreset.selectSeconds,
  }),
  member: {
    fields: PATCHCORE_MEMBER_FIELDS,
    save: savePatchCoreMember,
    tensorShapes: patchCoreMemberTensorShapes,
    check: checkPatchCoreMember,
    load: loadPatchCoreMember,
  },
  lowerMap: lowerPatchCoreMap,
  imageScoreRule:
    'the largest patch score (the squared distance of its most anomalous patch to the memory bank), as the PatchCore code',
};
