/**
 * CFA (Lee, Lee, Song 2022, arXiv 2206.04325) as a method of @cfa/method-kit: the pieces that make
 * it CFA — the 3×3-pooled embedding pyramid as features, the descriptor φ trained against the
 * coupled-hypersphere loss around a memory bank, softmin-weighted nearest-centre scoring — and
 * nothing else; running a category, ensembles (CFA++), thresholds, bundles, new images and the
 * ONNX export are the kit's.
 *
 * @example
 * ```ts
 * const run = await runMethodOnCategory({ method: cfaMethod, config: CfaConfigSchema.parse({}), root, category, engine });
 * ```
 */
import { createPatchEmbedder } from '@cfa/descriptor';
import type { AnomalyMethod } from '@cfa/method-kit';
import { CFA_CONFIG_FIELDS, type CfaConfig, CfaConfigSchema } from './config';
import { CFA_MEMBER_FIELDS, cfaMemberTensorShapes, checkCfaMember, loadCfaMember, saveCfaMember } from './cfa-member';
import { lowerCfaMap } from './cfa-onnx';
import { cfaFeatureSpace } from './feature-space';
import { type FittedCfa, fitCfa } from './fit';
import { assertMemoryBankFits } from './memory-bank-fit';
import { predictCfa } from './predict';

export const cfaMethod: AnomalyMethod<CfaConfig, FittedCfa> = {
  name: 'cfa',
  label: 'CFA',
  description: 'Lee et al. 2022, coupled-hypersphere feature adaptation around a memory bank',
  configSchema: CfaConfigSchema,
  configFields: CFA_CONFIG_FIELDS,
  describeConfig: (c) =>
    [
      c.loss.terms === 'none' ? 'loss none (not trained)' : `loss ${c.loss.terms} · ${c.training.epochs} epochs`,
      `γd ${c.descriptor.gammaD}, γc ${c.memoryBank.gammaC}`,
    ].join(' · '),
  checkGrid: (config, grid) => assertMemoryBankFits(config, grid.height * grid.width, grid.label),
  // the embedding pyramid: each backbone map 3×3-average-pooled at its own size (descriptor's
  // embedding-pyramid.ts), the cache entries CFA has always written (kind '' keeps their keys)
  createExtractor: async ({ engine, backbone, inputSize }) => {
    const embedder = await createPatchEmbedder({ engine, backbone, inputSize });
    return {
      kind: '',
      inputSize,
      levels: embedder.levels,
      embedPyramids: (images, batch) => embedder.embedPyramids(images, batch),
      release: () => embedder.release(),
    };
  },
  fit: ({ config, engine, backbone, train, onProgress, onEpoch, onEpochModel }) =>
    fitCfa({
      config,
      engine,
      train,
      outMultiplier: backbone.definition.embedding.outMultiplier,
      onProgress,
      onEpoch,
      onEpochModel,
    }),
  predict: (context) => predictCfa(context),
  history: (model) => model.history,
  fitSeconds: (model) => model.timings,
  summary: (model) => ({
    bankSize: model.bank.size,
    bankBytes: 4 * model.bank.size * model.bank.dim,
    descriptorChannels: model.params.outChannels,
    radius: model.radius,
  }),
  member: {
    fields: CFA_MEMBER_FIELDS,
    save: saveCfaMember,
    tensorShapes: cfaMemberTensorShapes,
    check: checkCfaMember,
    load: loadCfaMember,
  },
  lowerMap: lowerCfaMap,
  featureSpace: cfaFeatureSpace,
};
