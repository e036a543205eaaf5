/**
 * CRAD (Lee, Kim, Park, Woo, Ko 2024, "Continuous Memory Representation for Anomaly Detection",
 * ECCV 2024, arXiv 2402.18293) as a method of @cfa/method-kit: the pieces that make it CRAD — the
 * MFCN neck's features (EfficientNet-B4 out-layers 3 and 4 at stride 8), a continuous memory of two
 * learned grids read at predicted coordinates, a bottleneck decoder that reconstructs the features
 * from what it read, the reconstruction error as the anomaly map, the largest 32 × 32 window mean
 * as the image score — and nothing else; running a category (or, with `training.unified`, several
 * at once), ensembles, thresholds, bundles, new images and the ONNX export are the kit's.
 *
 * @example
 * ```ts
 * const run = await runMethodOnCategory({ method: cradMethod, config: CradConfigSchema.parse({}), root, category, engine });
 * ```
 */
import { createMfcnEmbedder } from '@cfa/descriptor';
import type { AnomalyMethod } from '@cfa/method-kit';
import { pooledMaxScores } from '@cfa/scoring';
import { CRAD_CONFIG_FIELDS, type CradConfig, CradConfigSchema } from './config';
import {
  CRAD_MEMBER_FIELDS,
  checkCradMember,
  cradMemberTensorShapes,
  loadCradMember,
  saveCradMember,
} from './crad-member';
import { lowerCradImageScore, lowerCradMap } from './crad-onnx';
import { stateBytes } from './crad-state';
import { type FittedCrad, fitCrad } from './fit';
import { predictCrad } from './predict';

export const cradMethod: AnomalyMethod<CradConfig, FittedCrad> = {
  name: 'crad',
  label: 'CRAD',
  description: 'Lee et al. 2024, features reconstructed from a continuous memory of learned grids',
  configSchema: CradConfigSchema,
  configFields: CRAD_CONFIG_FIELDS,
  describeConfig: (c) =>
    [
      `${c.decoder.layers}×${c.decoder.expansion} bottlenecks`,
      `grids ${c.memory.localResolution}²/${c.memory.globalResolution}²`,
      `${c.training.epochs} epochs${c.training.unified ? ' · unified' : ''}`,
    ].join(' · '),
  unified: (c) => c.training.unified,
  // the MFCN neck's features, one level per image: what CRAD reconstructs (kind keys the cache)
  createExtractor: async ({ engine, backbone, inputSize }) => {
    const embedder = await createMfcnEmbedder({ engine, backbone, inputSize });
    return {
      kind: 'crad:mfcn',
      inputSize,
      levels: [embedder.level],
      embedPyramids: (images, batch) => embedder.embed(images, batch),
      release: () => embedder.release(),
    };
  },
  fit: ({ config, engine, train, onProgress, onEpoch, onEpochModel }) =>
    fitCrad({ config, engine, train, onProgress, onEpoch, onEpochModel }),
  predict: (context) => predictCrad(context),
  history: (model) => model.history,
  fitSeconds: (model) => model.timings,
  summary: (model) => ({
    bankBytes: stateBytes(model.state),
    gridCells: model.config.memory.localResolution ** 2 + model.config.memory.globalResolution ** 2,
  }),
  member: {
    fields: CRAD_MEMBER_FIELDS,
    save: saveCradMember,
    tensorShapes: cradMemberTensorShapes,
    check: checkCradMember,
    load: loadCradMember,
  },
  lowerMap: lowerCradMap,
  imageScores: (maps, count, size, config) => pooledMaxScores({ maps, count, size, pool: config.scoring.imagePool }),
  lowerImageScores: (g, maps, size, config) => lowerCradImageScore(g, maps, size, config),
};
