/**
 * A CFA training step as one ONNX Runtime graph: per image, φ = CoordConv(X), its K + J nearest
 * centres, the hinge terms and ∂loss/∂φ over the gathered centres, and the weight gradient Xᵀ·∂φ.
 * X comes as the embedding pyramid (each backbone map at its own size, see @cfa/descriptor's
 * embedding-pyramid.ts): the descriptor's two products run per level at the level's size, a
 * quarter of the work of the upsampled embedding for wide_resnet50_2.
 * The pieces are the stage packages' own graph lowerings (descriptor, memory-bank, scoring), so
 * this is the same maths as the step-by-step path; fusing them keeps φ and ∂loss/∂φ (a [HW, D′]
 * array each, 22 MB per image for wide_resnet50_2) inside ONNX Runtime instead of copying them
 * to JavaScript and back, and runs the gather-and-hinge work on ONNX Runtime's threads.
 *
 * @example
 * ```ts
 * const step = await createOrtTrainStep({ engine, params, levels, loss: DEFAULT_LOSS_CONFIG });
 * const { gradWeight, gradBias, loss, gradR } = await step.run([p0, p1, p2, p3], params, bank, r); // each a pyramid
 * ```
 */
import { assert, createOrtRunner, type EngineSelection, OnnxGraphBuilder, type OrtRunner } from '@cfa/tensor-runtime';
import {
  assertCoordConvShape,
  type CoordConvParams,
  type EmbeddingLevel,
  lowerPyramidDescriptor,
  lowerPyramidDescriptorGradient,
  type PyramidDescriptorGraph,
  pyramidChannels,
  pyramidLength,
} from '@cfa/descriptor';
import {
  lowerDescriptorNearest,
  type MemoryBank,
  memoryBankFeeds,
  memoryBankInputs,
  type NearestRanking,
} from '@cfa/memory-bank';
import {
  type LossConfig,
  lossFromSums,
  lossGraphFeeds,
  lossGraphInputs,
  lossSumOutputs,
  lossSumsFromOutputs,
  type LossSumsGraph,
  type LossValues,
  lowerCfaLossGradient,
  lowerLossSumsTotal,
  neighboursNeeded,
} from '@cfa/scoring';

export interface OrtTrainStepResult extends LossValues {
  gradWeight: Float32Array;
  gradBias: Float32Array;
  gradR: number;
}

export interface OrtTrainStep {
  /** Loss and gradients of a batch of images' embedding pyramids at the given weights and radius. */
  run(images: Float32Array[], params: CoordConvParams, bank: MemoryBank, r: number): Promise<OrtTrainStepResult>;
  release(): Promise<void>;
}

export interface OrtTrainStepOptions {
  engine: EngineSelection;
  params: CoordConvParams;
  /** The embedding pyramid's levels, largest (the patch grid) first. */
  levels: EmbeddingLevel[];
  loss: LossConfig;
  /** How the K + J neighbours are ranked (@cfa/memory-bank's `lowerDescriptorNearest`); default 'auto'. */
  search?: NearestRanking;
}

/**
 * The step over `batch` images as one graph with one chain per image (inputs x_b_l, image b, level l): each
 * image's products run over its own 3136 rows — ONNX Runtime's GEMM measured 199 GF/s there
 * against 141 GF/s over a batch's 12544 rows (the result leaves the cache) — while the weight
 * gradients and hinge sums add up inside the graph (Gemm's C accumulates), so one gradient comes
 * out per step and ONNX Runtime frees each image's φ and ∂loss/∂φ before the next.
 */
function trainStepGraph(
  { params, levels, loss, search }: OrtTrainStepOptions,
  batch: number,
): { bytes: Uint8Array; descriptor: PyramidDescriptorGraph } {
  const { coordChannels: c, outChannels: dOut } = params;
  const g = new OnnxGraphBuilder(`cfa-train-step-b${batch}`);
  // images are added one at a time below, each chain right after the previous one
  const descriptor = lowerPyramidDescriptor(g, { levels, params, weights: 'input', images: 0 });
  const gradient = lowerPyramidDescriptorGradient(g, descriptor);
  const nearest = lowerDescriptorNearest(g, descriptor, memoryBankInputs(g, dOut), {
    ranking: search,
    imagesPerRun: batch,
  });
  const stepInputs = lossGraphInputs(g, dOut);
  const need = neighboursNeeded(loss);
  let sums: LossSumsGraph | undefined;
  for (let b = 0; b < batch; b++) {
    const image = descriptor.addImage();
    const [distances, indices] = nearest(image, need);
    const terms = lowerCfaLossGradient(g, { phi: image.phi, indices, distances, ...stepInputs }, loss);
    gradient.add(image, terms.gradPhi);
    sums = lowerLossSumsTotal(g, sums, terms);
  }
  const [gradWeight, gradBias] = gradient.total();
  g.namedOutput(gradWeight, 'grad_weight', [pyramidChannels(levels) + c, dOut]);
  g.namedOutput(gradBias, 'grad_bias', [dOut]);
  lossSumOutputs(g, sums!);
  return { bytes: g.toBytes(), descriptor };
}

export async function createOrtTrainStep(options: OrtTrainStepOptions): Promise<OrtTrainStep> {
  const { engine, params: built, levels, loss } = options;
  const { height, width } = levels[0];
  const hw = height * width;
  const values = pyramidLength(levels);
  const dOut = built.outChannels;
  const d = pyramidChannels(levels);
  assert(
    built.inChannels === d,
    'createOrtTrainStep',
    () => `the descriptor takes ${built.inChannels} channels, the pyramid's levels hold ${d}`,
  );
  // one session per batch size (the last batch of an epoch may be smaller)
  const runners = new Map<number, Promise<{ runner: OrtRunner; descriptor: PyramidDescriptorGraph }>>();
  const runnerFor = (batch: number) => {
    let entry = runners.get(batch);
    if (!entry) {
      const { bytes, descriptor } = trainStepGraph(options, batch);
      entry = createOrtRunner(engine, bytes, `CFA training step (batch ${batch})`).then((runner) => ({
        runner,
        descriptor,
      }));
      runners.set(batch, entry);
    }
    return entry;
  };
  return {
    async run(images, params, bank, r) {
      assert(images.length > 0, 'OrtTrainStep.run', () => 'the batch is empty');
      images.forEach((x, b) =>
        assert(
          x.length === values,
          'OrtTrainStep.run',
          () => `image ${b} must be a pyramid of ${values} values, got ${x.length}`,
        ),
      );
      assertCoordConvShape('OrtTrainStep.run', built, params);
      assert(
        bank.dim === dOut,
        'OrtTrainStep.run',
        () => `the step was built for D′ = ${dOut}, the bank has ${bank.dim}`,
      );
      const count = images.length * hw;
      const { runner, descriptor } = await runnerFor(images.length);
      const out = await runner.run({
        ...descriptor.feeds(images, params),
        ...memoryBankFeeds(bank),
        ...lossGraphFeeds({ bank, count, r, config: loss }),
      });
      const sums = lossSumsFromOutputs(out);
      return {
        ...lossFromSums(sums, count, r, loss),
        gradWeight: out.grad_weight.data as Float32Array,
        gradBias: out.grad_bias.data as Float32Array,
      };
    },
    async release() {
      for (const entry of runners.values()) await (await entry).runner.release();
    },
  };
}
