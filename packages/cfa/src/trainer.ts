/**
 * One optimisation step of CFA (anomalib `cfa/lightning_model.py`, `training_step`):
 *
 * 1. φ of the batch and its K+J nearest centre indices, without gradient;
 * 2. the loss and ∂loss/∂φ in closed form over just those K+J gathered distances (equal to
 *    autograd through the full top-k, see docs/method.md, "The loss");
 * 3. the weight gradient Xᵀ·∂φ, then one AdamW step on W, b and r (shared by both engines).
 *
 * On ONNX Runtime, 1–3 run as one fused graph with a chain per image (`createOrtTrainStep`) on
 * the images' embedding pyramids; on TensorFlow.js the engine runs the three large products on the
 * upsampled embeddings and `cfaLossAndGradient` does 2 on typed arrays. Both are built from the
 * same definitions, so they learn the same radius and weights up to rounding.
 */
import { AdamW, type EngineSelection, type OptimizerConfig } from '@cfa/tensor-runtime';
import {
  type CoordConvParams,
  createDescriptorGradient,
  createDescriptorRunner,
  type DescriptorRunner,
  type EmbeddingLevel,
  expandPyramids,
} from '@cfa/descriptor';
import { createNearestSearch, type MemoryBank, type NearestSearch } from '@cfa/memory-bank';
import { cfaLossAndGradient, type LossConfig, neighboursNeeded } from '@cfa/scoring';
import { createOrtTrainStep, type OrtTrainStepResult } from './ort-train-step';

export interface StepLosses {
  loss: number;
  lossAtt: number;
  lossRep: number;
}

export interface Trainer {
  /** Trains on one batch of images' embedding pyramids; returns the batch's losses before the update. */
  step(pyramids: Float32Array[]): Promise<StepLosses>;
  /** Current radius r. */
  readonly radius: number;
  release(): Promise<void>;
}

export interface TrainerOptions {
  engine: EngineSelection;
  params: CoordConvParams;
  bank: MemoryBank;
  /** The embedding pyramid's levels, the patch grid first. */
  levels: EmbeddingLevel[];
  loss: LossConfig;
  optimizer: OptimizerConfig;
  r0: number;
  learnRadius: boolean;
  /** Reused when the caller already built them (they are released by their owner). */
  descriptor?: DescriptorRunner;
  search?: NearestSearch;
}

/** Loss and gradients of one batch at radius r, by one of the two engines' paths. */
interface BatchGradient {
  compute(pyramids: Float32Array[], r: number): Promise<OrtTrainStepResult>;
  release(): Promise<void>;
}

/** TensorFlow.js: the engine's three products with `cfaLossAndGradient` between them. */
async function stepByStepGradient(options: TrainerOptions): Promise<BatchGradient> {
  const { engine, params, bank, levels, loss } = options;
  const { height, width } = levels[0];
  const hw = height * width;
  const need = neighboursNeeded(loss);
  const descriptor = options.descriptor ?? (await createDescriptorRunner({ engine, height, width, params }));
  const search = options.search ?? (await createNearestSearch({ engine, dim: params.outChannels }));
  const gradient = await createDescriptorGradient({ engine, height, width, params });
  return {
    async compute(pyramids, r) {
      const batch = pyramids.length;
      const embeddings = expandPyramids(pyramids, levels);
      const phi = await descriptor.forward(embeddings, batch, params);
      const { indices } = await search.nearest(phi, batch * hw, bank, need);
      const lg = cfaLossAndGradient({ phi, count: batch * hw, bank, indices, k: need, r, config: loss });
      return { ...lg, ...(await gradient.compute(embeddings, lg.gradPhi, batch)) };
    },
    async release() {
      await gradient.release();
      if (!options.descriptor) await descriptor.release();
      if (!options.search) await search.release();
    },
  };
}

export async function createTrainer(options: TrainerOptions): Promise<Trainer> {
  const { engine, params, bank, levels, loss } = options;
  const radius = new Float32Array([options.r0]);
  const optimizer = new AdamW(
    options.learnRadius ? [params.weight, params.bias, radius] : [params.weight, params.bias],
    options.optimizer,
  );
  let gradient: BatchGradient;
  if (engine.name === 'ort') {
    const fused = await createOrtTrainStep({ engine, params, levels, loss });
    gradient = { compute: (images, r) => fused.run(images, params, bank, r), release: () => fused.release() };
  } else {
    gradient = await stepByStepGradient(options);
  }
  return {
    get radius() {
      return radius[0];
    },
    async step(pyramids) {
      const g = await gradient.compute(pyramids, radius[0]);
      optimizer.step(options.learnRadius ? [g.gradWeight, g.gradBias, [g.gradR]] : [g.gradWeight, g.gradBias]);
      return { loss: g.loss, lossAtt: g.lossAtt, lossRep: g.lossRep };
    },
    release: () => gradient.release(),
  };
}
