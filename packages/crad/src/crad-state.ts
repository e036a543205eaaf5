/**
 * A CRAD model's parameters as one state dict in the reference module's names and PyTorch layouts
 * (`models/reconstructions/crad.py` `CRAD.state_dict()` minus `num_batches_tracked`): the two
 * grids (`query.0`, `query.1`: @cfa/memory-bank), the coordinate predictors (`coord_`, `coord`) and
 * the bottleneck decoder (`layer.*`, `recover`: @cfa/descriptor). What is trained is every entry
 * but BatchNorm's running statistics; the grids train at their own learning rate.
 *
 * @example
 * ```ts
 * const state = initCradState(config, { channels: 216, height: 28, width: 28 });
 * trainableNames(state); // ['query.0', 'query.1', 'coord_.0.weight', …]
 * ```
 */
import type { StateDict } from '@cfa/backbone';
import { initBottleneckDecoder, initCoordinatePredictors, isRunningStatistic } from '@cfa/descriptor';
import { CONTINUOUS_MEMORY_NAMES, initContinuousMemory } from '@cfa/memory-bank';
import type { CradConfig } from './config';

/** The features CRAD reconstructs: the MFCN neck's output grid and channels. */
export interface FeatureGrid {
  channels: number;
  height: number;
  width: number;
}

/** The grids' names: trained at `training.gridLr` (the reference groups parameters named `query`). */
export const GRID_NAMES: readonly string[] = [CONTINUOUS_MEMORY_NAMES.local, CONTINUOUS_MEMORY_NAMES.global];

/** A fresh model as the reference constructs it, seeded by `config.seed`. */
export function initCradState(config: Pick<CradConfig, 'memory' | 'decoder' | 'seed'>, grid: FeatureGrid): StateDict {
  const { channels, height, width } = grid;
  const seed = config.seed;
  const memory = initContinuousMemory({ channels, height, width, ...config.memory, seed });
  return new Map([
    [CONTINUOUS_MEMORY_NAMES.local, memory.local],
    [CONTINUOUS_MEMORY_NAMES.global, memory.global],
    ...initCoordinatePredictors({ channels, seed }),
    ...initBottleneckDecoder({
      channels: 2 * channels,
      outChannels: channels,
      expansion: config.decoder.expansion,
      layers: config.decoder.layers,
      seed,
    }),
  ]);
}

/** The entries the optimiser updates, in state order. */
export function trainableNames(state: StateDict): string[] {
  return [...state.keys()].filter((k) => !isRunningStatistic(k));
}

/** Deep copy (a per-epoch snapshot must not change when training goes on). */
export function cloneState(state: StateDict): StateDict {
  return new Map([...state].map(([k, v]) => [k, { shape: [...v.shape], data: Float32Array.from(v.data) }]));
}

/** Float32 bytes of a state (the method comparison's memory column counts what scoring keeps). */
export function stateBytes(state: StateDict): number {
  let n = 0;
  for (const t of state.values()) n += t.data.length;
  return 4 * n;
}
