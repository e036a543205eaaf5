/**
 * PatchCore's features as the kit's feature cache stores them: each image's locally aware patch
 * features (@cfa/descriptor `createLocalPatchEmbedder`: p×p neighbourhoods of the chosen maps,
 * adaptive average pooling per layer and across layers), one level [H·W, targetDim] on the first
 * chosen map's grid. They are a pure function of the image, so fits and sweep cells share them;
 * the cache key's `kind` names everything they depend on beyond the backbone.
 *
 * @example
 * ```ts
 * const extractor = await createPatchCoreExtractor({ engine, backbone, inputSize: 224, config });
 * extractor.kind;   // 'patchcore:layer2+layer3:p3:1024>1024'
 * extractor.levels; // [{ height: 28, width: 28, channels: 1024 }]
 * ```
 */
import type { EngineSelection } from '@cfa/tensor-runtime';
import type { BackboneModel } from '@cfa/backbone';
import { createLocalPatchEmbedder } from '@cfa/descriptor';
import type { FeatureExtractor } from '@cfa/method-kit';
import type { PatchCoreConfig } from './config';

/** Indices of `layers` among the backbone's tapped maps; throws naming the field and the maps there are. */
export function layerIndices(backbone: BackboneModel, layers: string[]): number[] {
  const names = backbone.definition.featureNames;
  return layers.map((layer) => {
    const i = names.indexOf(layer);
    if (i < 0)
      throw new Error(
        `layers: '${layer}' is not a tapped map of ${backbone.definition.name} (its maps: ${names.join(', ')}); PatchCore reads layer2 and layer3 of the ResNets`,
      );
    return i;
  });
}

export function patchCoreFeatureKind(config: PatchCoreConfig): string {
  const { patchSize, preDim, targetDim } = config.embedding;
  return `patchcore:${config.layers.join('+')}:p${patchSize}:${preDim}>${targetDim}`;
}

export async function createPatchCoreExtractor(options: {
  engine: EngineSelection;
  backbone: BackboneModel;
  inputSize: number;
  config: PatchCoreConfig;
}): Promise<FeatureExtractor> {
  const { engine, backbone, inputSize, config } = options;
  const embedder = await createLocalPatchEmbedder({
    engine,
    backbone,
    inputSize,
    maps: layerIndices(backbone, config.layers),
    ...config.embedding,
  });
  return {
    kind: patchCoreFeatureKind(config),
    inputSize,
    levels: [{ height: embedder.height, width: embedder.width, channels: embedder.channels }],
    embedPyramids: (images, batch) => embedder.embed(images, batch),
    release: () => embedder.release(),
  };
}
