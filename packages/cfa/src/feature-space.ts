/**
 * CFA's feature space for paper Fig. 3: test patches' φ(p) before adaptation (the descriptor's
 * initial parameters, a pure function of the config seed: `createCoordConvParams`) and after (the
 * trained descriptor), with the memory bank C as the reference points — C does not move while φ
 * trains, so a picture can fit one basis on C and show both panels on it. The picture itself
 * (patch choice, PCA, chart) is the app's; this supplies the features.
 */
import type { EngineSelection } from '@cfa/tensor-runtime';
import type { BackboneModel } from '@cfa/backbone';
import { createCoordConvParams, createDescriptorRunner, type EmbeddingLevel } from '@cfa/descriptor';
import type { FeatureSpaceProjector } from '@cfa/method-kit';
import type { CfaConfig } from './config';
import type { FittedCfa } from './fit';

export async function cfaFeatureSpace({
  model,
  config,
  backbone,
  engine,
  levels,
}: {
  model: FittedCfa;
  config: CfaConfig;
  backbone: BackboneModel;
  engine: EngineSelection;
  levels: EmbeddingLevel[];
}): Promise<FeatureSpaceProjector> {
  const { params, bank, height, width } = model;
  const initial = createCoordConvParams({
    inChannels: params.inChannels,
    gammaD: config.descriptor.gammaD,
    outMultiplier: backbone.definition.embedding.outMultiplier,
    withRadius: config.descriptor.withRadius,
    init: config.descriptor.init,
    seed: config.seed,
  });
  if (initial.outChannels !== params.outChannels || initial.weight.length !== params.weight.length)
    throw new Error(
      `cfaFeatureSpace: the initial descriptor has ${initial.outChannels} outputs, the trained one ${params.outChannels}`,
    );
  const runner = await createDescriptorRunner({ engine, height, width, params: initial, levels });
  return {
    before: (features) => runner.forwardPyramid(features, initial),
    after: (features) => runner.forwardPyramid(features, params),
    centres: { rows: bank.centres, count: bank.size, dim: bank.dim },
    names: { features: 'Patch features φ(p)', centres: 'memory bank C' },
    release: () => runner.release(),
  };
}
