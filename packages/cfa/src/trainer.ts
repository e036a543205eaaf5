/**
 * One optimisation step of CFA (anomalib `cfa/lightning_model.py`, `training_step`):
 *
 * 1. φ of the batch and its K+J nearest centre indices, without gradient;
 * 2. the loss and ∂loss/∂φ in closed form over just those K+J gathered distances (equal to
 *    autograd through the full top-k, see cfa-spec.md);
 * 3. the weight gradient Xᵀ·∂φ, then one AdamW step on W, b and r (shared by both engines).
 *
 * On ONNX Runtime, 1–3 run as one fused graph per image (`createOrtTrainStep`); on TensorFlow.js
 * the engine runs the three large products and `cfaLossAndGradient` does 2 on typed arrays. Both
 * are built from the same definitions, so they learn the same radius and weights up to rounding.
 */
import type { EngineSelection } from '@cfa/tensor-runtime';
import {
  type CoordConvParams,
  createDescriptorGradient,
  createDescriptorRunner,
  type DescriptorRunner,
} from '@cfa/descriptor';
import { createNearestSearch, type MemoryBank, type NearestSearch } from '@cfa/memory-bank';
import { cfaLossAndGradient, type LossConfig, neighboursNeeded } from '@cfa/scoring';
import { AdamW, type OptimizerConfig } from './adamw';
import { createOrtTrainStep } from './ort-train-step';

/** [batch, HW, D] in one array, the layout the step-by-step runners take. */
function stackImages(images: Float32Array[]): Float32Array {
  const out = new Float32Array(images.reduce((n, x) => n + x.length, 0));
  let offset = 0;
  for (const x of images) {
    out.set(x, offset);
    offset += x.length;
  }
  return out;
}

export interface StepLosses {
  loss: number;
  lossAtt: number;
  lossRep: number;
}

export interface Trainer {
  /** Trains on one batch of images' embeddings (each [HW, D]); returns the batch's losses before the update. */
  step(images: Float32Array[]): Promise<StepLosses>;
  /** Current radius r. */
  readonly radius: number;
  release(): Promise<void>;
}

export interface TrainerOptions {
  engine: EngineSelection;
  params: CoordConvParams;
  bank: MemoryBank;
  height: number;
  width: number;
  loss: LossConfig;
  optimizer: OptimizerConfig;
  r0: number;
  learnRadius: boolean;
  /** Reused when the caller already built them (they are released by their owner). */
  descriptor?: DescriptorRunner;
  search?: NearestSearch;
}

export async function createTrainer(options: TrainerOptions): Promise<Trainer> {
  const { engine, params, bank, height, width, loss } = options;
  const hw = height * width;
  const need = neighboursNeeded(loss);
  const radius = new Float32Array([options.r0]);
  const optimizer = new AdamW(options.learnRadius ? [params.weight, params.bias, radius] : [params.weight, params.bias], options.optimizer);
  if (engine.name === 'ort') {
    const fused = await createOrtTrainStep({ engine, params, height, width, loss });
    return {
      get radius() {
        return radius[0];
      },
      async step(images) {
        const s = await fused.run(images, params, bank, radius[0]);
        optimizer.step(options.learnRadius ? [s.gradWeight, s.gradBias, [s.gradR]] : [s.gradWeight, s.gradBias]);
        return { loss: s.loss, lossAtt: s.lossAtt, lossRep: s.lossRep };
      },
      release: () => fused.release(),
    };
  }
  const descriptor = options.descriptor ?? (await createDescriptorRunner({ engine, height, width, params }));
  const search = options.search ?? (await createNearestSearch({ engine, dim: params.outChannels }));
  const gradient = await createDescriptorGradient({ engine, height, width, params });
  return {
    get radius() {
      return radius[0];
    },
    async step(images) {
      const batch = images.length;
      const embeddings = stackImages(images);
      const phi = await descriptor.forward(embeddings, batch, params);
      const { indices } = await search.nearest(phi, batch * hw, bank, need);
      const lg = cfaLossAndGradient({ phi, count: batch * hw, bank, indices, k: need, r: radius[0], config: loss });
      const { gradWeight, gradBias } = await gradient.compute(embeddings, lg.gradPhi, batch);
      optimizer.step(options.learnRadius ? [gradWeight, gradBias, [lg.gradR]] : [gradWeight, gradBias]);
      return { loss: lg.loss, lossAtt: lg.lossAtt, lossRep: lg.lossRep };
    },
    async release() {
      await gradient.release();
      if (!options.descriptor) await descriptor.release();
      if (!options.search) await search.release();
    },
  };
}
