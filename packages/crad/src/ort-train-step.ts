/**
 * One CRAD training step as ONE ONNX Runtime graph, its backward pass written out by the stage
 * packages' training lowerings — forward in train mode, then in reverse:
 *
 *   FeatureMSELoss of the blend → ∂R          @cfa/scoring      lowerReconstructionLossTrain
 *   bottleneck decoder → ∂(memory read), ∂W   @cfa/descriptor   lowerBottleneckDecoderTrain
 *   continuous memory → ∂grids, ∂coordinates  @cfa/memory-bank  lowerContinuousMemoryTrain
 *   coordinate predictors → ∂W, ∂b            @cfa/descriptor   lowerCoordinatePredictorsTrain
 *
 * The parameters are graph inputs fed from the state each step (one session serves every step and
 * every batch size); the outputs are the loss, every trainable parameter's gradient and each
 * BatchNorm's batch statistics. The optimiser (clipping, two learning rates, StepLR) and the
 * running statistics are the same as TensorFlow.js's (train-step.ts): the two engines compute the
 * same step, and both are checked against the reference module's (official-parity.spec.ts).
 *
 * @example
 * ```ts
 * const trainer = await createOrtCradTrainStep({ engine, state, grid, blend: config.scoring });
 * const step = await trainer.step({ features, batch: 16, noise });
 * ```
 */
import { createOrtRunner, type EngineSelection, OnnxGraphBuilder, type OrtRunner } from '@cfa/tensor-runtime';
import type { StateDict } from '@cfa/backbone';
import {
  type BatchStatistics,
  lowerBottleneckDecoderTrain,
  lowerCoordinatePredictorsTrain,
  updateRunningStatistics,
} from '@cfa/descriptor';
import { CONTINUOUS_MEMORY_NAMES, lowerContinuousMemoryTrain } from '@cfa/memory-bank';
import { lowerReconstructionLossTrain, type ReconstructionBlend } from '@cfa/scoring';
import { attr } from '@cfa/tensor-runtime';
import type { CradConfig } from './config';
import { type FeatureGrid, trainableNames } from './crad-state';
import type { TrainStepResult } from './train-step';

export interface OrtCradTrainStep {
  /** Loss and gradients at the state's current values; updates its running statistics. */
  step(o: { features: Float32Array; batch: number; noise?: Float32Array }): Promise<TrainStepResult>;
  release(): Promise<void>;
}

const gradName = (name: string) => `grad:${name}`;

/** The training graph: inputs `features`, `noise` and every trainable parameter; outputs loss, grads, statistics. */
export function cradTrainGraph(
  state: StateDict,
  grid: FeatureGrid,
  blend: ReconstructionBlend,
  memory: CradConfig['memory'],
): { bytes: Uint8Array; batchNorms: string[] } {
  const { channels: c, height: h, width: w } = grid;
  const g = new OnnxGraphBuilder('crad-train-step');
  const features = g.input('features', ['n', h, w, c]);
  const noise = g.input('noise', ['n', h, w, 2]);
  const names = trainableNames(state);
  for (const n of names) g.input(n, state.get(n)!.shape);
  const param = (name: string) => {
    if (!names.includes(name)) throw new Error(`CRAD training graph: no parameter '${name}'`);
    return name;
  };
  const featureRows = g.node('Reshape', [features, g.ints('shape', [-1, c])])[0];
  const pooled = g.node('ReduceMean', [g.node('Reshape', [features, g.ints('shape', [-1, h * w, c])])[0]], {
    axes: attr.ints([1]),
    keepdims: attr.int(0),
  })[0];
  const coords = lowerCoordinatePredictorsTrain(g, { featureRows, pooled, channels: c, param });
  const localCoords = g.node('Add', [coords.localRows, g.node('Reshape', [noise, g.ints('shape', [-1, 2])])[0]])[0];
  const read = lowerContinuousMemoryTrain(g, {
    localGrid: param(CONTINUOUS_MEMORY_NAMES.local),
    globalGrid: param(CONTINUOUS_MEMORY_NAMES.global),
    localCoords,
    globalCoords: coords.global,
    channels: c,
    height: h,
    width: w,
    ...memory,
  });
  const decoder = lowerBottleneckDecoderTrain(g, { input: read.rows, param, state, height: h, width: w });
  const loss = lowerReconstructionLossTrain(g, decoder.output, featureRows, blend);
  const decoderGrads = decoder.backward(loss.gradReconstruction);
  const memoryGrads = read.backward(decoderGrads.input);
  const grads = new Map<string, string>([
    ...decoderGrads.params,
    ...coords.backward(memoryGrads.globalCoords, memoryGrads.localCoords),
    [CONTINUOUS_MEMORY_NAMES.local, memoryGrads.local],
    [CONTINUOUS_MEMORY_NAMES.global, memoryGrads.global],
  ]);
  const missing = names.filter((n) => !grads.has(n));
  if (missing.length) throw new Error(`CRAD training graph: no gradient for ${missing.join(', ')}`);
  g.namedOutput(loss.loss, 'loss', []);
  for (const n of names) g.namedOutput(grads.get(n)!, gradName(n), state.get(n)!.shape);
  for (const [prefix, s] of decoder.statistics) {
    const channels = state.get(`${prefix}.weight`)!.shape;
    g.namedOutput(s.mean, `mean:${prefix}`, channels);
    g.namedOutput(s.variance, `var:${prefix}`, channels);
  }
  return { bytes: g.toBytes(), batchNorms: [...decoder.statistics.keys()] };
}

export async function createOrtCradTrainStep(o: {
  engine: EngineSelection;
  state: StateDict;
  grid: FeatureGrid;
  blend: ReconstructionBlend;
  memory: CradConfig['memory'];
}): Promise<OrtCradTrainStep> {
  const { engine, state, grid } = o;
  const { bytes, batchNorms } = cradTrainGraph(state, grid, o.blend, o.memory);
  const runner: OrtRunner = await createOrtRunner(engine, bytes, 'CRAD training step');
  const names = trainableNames(state);
  const { channels: c, height: h, width: w } = grid;
  return {
    async step({ features, batch, noise }) {
      if (features.length !== batch * h * w * c)
        throw new Error(
          `CRAD training step: features must hold [${batch}, ${h}, ${w}, ${c}] values, got ${features.length}`,
        );
      const out = await runner.run({
        features: { data: features, dims: [batch, h, w, c] },
        noise: { data: noise ?? new Float32Array(batch * h * w * 2), dims: [batch, h, w, 2] },
        ...Object.fromEntries(names.map((n) => [n, { data: state.get(n)!.data, dims: state.get(n)!.shape }])),
      });
      const statistics = new Map<string, BatchStatistics<Float32Array>>(
        batchNorms.map((p) => [
          p,
          {
            mean: out[`mean:${p}`].data as Float32Array,
            variance: out[`var:${p}`].data as Float32Array,
            count: batch * h * w,
          },
        ]),
      );
      updateRunningStatistics(state, statistics);
      return {
        loss: (out.loss.data as Float32Array)[0],
        grads: new Map(names.map((n) => [n, out[gradName(n)].data as Float32Array])),
        statistics,
      };
    },
    release: () => runner.release(),
  };
}
