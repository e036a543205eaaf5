/**
 * PaDiM's fit (paper §3.2): every train image's raw layer1..3 maps → the nearest-replication
 * embedding on layer1's grid, its seeded random `d` channels (@cfa/descriptor `nearestEmbedding`,
 * `randomChannels`) → a Gaussian per position with εI and its inverse (@cfa/memory-bank
 * `fitPositionGaussians`). No epochs; the cost is one pass over the cached features plus one
 * d×d Cholesky inverse per position.
 */
import type { EngineSelection } from '@cfa/tensor-runtime';
import { nearestEmbedding, randomChannels } from '@cfa/descriptor';
import { fitPositionGaussians, type PositionGaussians } from '@cfa/memory-bank';
import type { EmbeddingSet, FitProgress } from '@cfa/method-kit';
import { embeddingDimensions, type PadimConfig } from './config';

export interface FittedPadim {
  /** μ [P, d] and Σ⁻¹ [P, d, d] per position of the H×W grid. */
  gaussians: PositionGaussians;
  /** The kept embedding channels, in order (indices into the concatenated layer1..3 channels). */
  channels: number[];
  height: number;
  width: number;
  /** The map blur's σ. */
  sigma: number;
  engine: EngineSelection;
  seconds: number;
}

export interface FitPadimOptions {
  config: PadimConfig;
  engine: EngineSelection;
  train: EmbeddingSet;
  onProgress?: (event: FitProgress) => void;
}

export async function fitPadim({ config, engine, train, onProgress }: FitPadimOptions): Promise<FittedPadim> {
  const start = performance.now();
  const { height, width, levels } = train;
  const channels = randomChannels(train.channels, embeddingDimensions(config), config.seed);
  const gaussians = await fitPositionGaussians({
    count: train.ids.length,
    positions: height * width,
    dim: channels.length,
    read: async (i) => nearestEmbedding({ pyramid: await train.pyramid(i), levels, channels }),
    epsilon: config.epsilon,
    onProgress: (phase, done, total) =>
      onProgress?.({
        phase: 'bank',
        done,
        total,
        detail: phase === 'add' ? 'Gaussians: images' : 'Gaussians: inverting Σ per position',
      }),
  });
  return {
    gaussians,
    channels,
    height,
    width,
    sigma: config.sigma,
    engine,
    seconds: (performance.now() - start) / 1000,
  };
}
