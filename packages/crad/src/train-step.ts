/**
 * One CRAD training step on TensorFlow.js, as the reference's `train_one_epoch` takes it
 * (`tools/train_val.py`): the forward in train mode (BatchNorm on batch statistics, the local
 * coordinates noised when the step's coin says so), FeatureMSELoss, the gradients of every
 * parameter by autograd (the memory read, the decoder and the blend are written in ops whose
 * gradients every tfjs backend has: @cfa/memory-bank continuous-memory.ts, @cfa/descriptor
 * bottleneck-decoder.ts), then `clip_grad_norm_` over all gradients and AdamW with the grids at
 * their own learning rate (`createCradOptimizer`), and the running statistics updated as PyTorch
 * does in the forward.
 *
 * @example
 * ```ts
 * const step = await cradTrainStep({ state, features, batch: 16, grid, blend: config.scoring, noise });
 * optimizer.step(step.grads, epoch);
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import type { StateDict } from '@cfa/backbone';
import { type BatchStatistics, updateRunningStatistics } from '@cfa/descriptor';
import { featureMseLossTf, type ReconstructionBlend } from '@cfa/scoring';
import { AdamW, clipGradientNorm, ensureTfGradients, stepLrFactor } from '@cfa/tensor-runtime';
import type { CradConfig } from './config';
import { cradForwardTf } from './crad-forward';
import { type FeatureGrid, GRID_NAMES, trainableNames } from './crad-state';
import { stateTensors } from './state-tensors';

export interface TrainStepOptions {
  state: StateDict;
  /** Features [batch, h, w, C] (NHWC). */
  features: Float32Array;
  batch: number;
  grid: FeatureGrid;
  blend: ReconstructionBlend;
  /** Added to the local coordinates, [batch, h, w, 2]; absent on steps whose coin says no noise. */
  noise?: Float32Array;
}

export interface TrainStepResult {
  loss: number;
  /** d loss / d parameter for every trainable entry, by name. */
  grads: Map<string, Float32Array>;
  /** Each BatchNorm's batch statistics (already applied to the state's running ones). */
  statistics: Map<string, BatchStatistics<Float32Array>>;
}

/** Loss and gradients at `state`; updates the state's BatchNorm running statistics (as the forward does in torch). */
export async function cradTrainStep(o: TrainStepOptions): Promise<TrainStepResult> {
  const { state, batch, grid } = o;
  await ensureTfGradients();
  const names = trainableNames(state);
  const params = stateTensors(state, names);
  const constants = stateTensors(
    state,
    [...state.keys()].filter((k) => !params.has(k)),
  );
  const features = tf.tensor4d(o.features, [batch, grid.height, grid.width, grid.channels]);
  const noise = o.noise ? tf.tensor4d(o.noise, [batch, grid.height, grid.width, 2]) : undefined;
  let statistics = new Map<string, BatchStatistics<tf.Tensor1D>>();
  const lossOf = (...tensors: tf.Tensor[]) => {
    const lookup = new Map<string, tf.Tensor>([...constants, ...names.map((n, i) => [n, tensors[i]] as const)]);
    const out = cradForwardTf(lookup, features, { training: true, noise, blend: o.blend });
    statistics = out.batchStatistics;
    return featureMseLossTf(out.blended, features);
  };
  try {
    const { value, grads } = tf.valueAndGrads(lossOf)([...params.values()]);
    const gradData = await Promise.all(grads.map((g) => g.data() as Promise<Float32Array>));
    const loss = (await value.data())[0];
    tf.dispose([value, ...grads]);
    const read = new Map<string, BatchStatistics<Float32Array>>();
    for (const [k, s] of statistics)
      read.set(k, {
        mean: (await s.mean.data()) as Float32Array,
        variance: (await s.variance.data()) as Float32Array,
        count: s.count,
      });
    updateRunningStatistics(state, read);
    return { loss, grads: new Map(names.map((n, i) => [n, gradData[i]])), statistics: read };
  } finally {
    for (const s of statistics.values()) tf.dispose([s.mean, s.variance]);
    tf.dispose([...params.values(), ...constants.values(), features, ...(noise ? [noise] : [])]);
  }
}

export interface CradOptimizer {
  /** Clips the gradients (in place), steps AdamW at epoch `epoch`'s learning rates; returns the norm before clipping. */
  step(grads: Map<string, Float32Array>, epoch: number): number;
}

/**
 * AdamW over the state's trainable entries (updated in place): the grids (`query.*`) at
 * `training.gridLr`, the rest at `training.netLr` (train_val.py's two parameter groups), weight
 * decay `training.weightDecay`, StepLR per epoch (`stepLrFactor`), `clip_grad_norm_` first.
 */
export function createCradOptimizer(state: StateDict, training: CradConfig['training']): CradOptimizer {
  const names = trainableNames(state);
  const optimizer = new AdamW(
    names.map((n) => state.get(n)!.data),
    { weightDecay: training.weightDecay, amsgrad: false },
    names.map((n) => (GRID_NAMES.includes(n) ? training.gridLr : training.netLr)),
  );
  return {
    step(grads, epoch) {
      const ordered = names.map((n) => {
        const g = grads.get(n);
        if (!g) throw new Error(`CRAD optimiser: no gradient for '${n}'`);
        return g;
      });
      const norm = training.clipMaxNorm > 0 ? clipGradientNorm(ordered, training.clipMaxNorm) : NaN;
      optimizer.step(ordered, stepLrFactor({ epoch, stepSize: training.lrStepSize, gamma: training.lrGamma }));
      return norm;
    },
  };
}
