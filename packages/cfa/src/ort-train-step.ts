/**
 * A CFA training step as one ONNX Runtime graph: per image, φ = CoordConv(X), its K + J nearest
 * centres, the hinge terms and ∂loss/∂φ over the gathered centres, and the weight gradient Xᵀ·∂φ.
 * X comes as the embedding pyramid (each backbone map at its own size, see embedding-pyramid.ts):
 * the descriptor's two products run per level at the level's size, a quarter of the work of the
 * upsampled embedding for wide_resnet50_2.
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
import {
  assert,
  createOrtRunner,
  type EngineSelection,
  OnnxGraphBuilder,
  type OrtFeed,
  type OrtRunner,
} from '@cfa/tensor-runtime';
import {
  type CoordConvParams,
  coordinatesAndOneInitializer,
  coordinatesInitializer,
  type EmbeddingLevel,
  finishPyramidGradient,
  lowerCoordinateTerm,
  lowerPyramidForward,
  lowerPyramidWeightGradient,
  type PyramidGradient,
  pyramidChannels,
  pyramidFeeds,
  pyramidInputs,
  pyramidLength,
  pyramidWeightFeeds,
  pyramidWeightInputs,
} from '@cfa/descriptor';
import { lowerNearest, type MemoryBank } from '@cfa/memory-bank';
import { lowerPyramidNearest, lowerPyramidSearchFactors, pyramidSearchPays } from './pyramid-search';
import {
  type LossConfig,
  lossFromSums,
  type LossSums,
  type LossValues,
  lowerCfaLossGradient,
  neighboursNeeded,
  termScales,
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
  /** How the K + J neighbours are ranked: through the pyramid (pyramid-search.ts), by φ·Cᵀ, or whichever takes fewer multiply-adds. */
  search?: 'auto' | 'pyramid' | 'direct';
}

const SUM_OUTPUTS = ['att_sum', 'att_active', 'rep_sum', 'rep_active'] as const;

/**
 * The step over `batch` images as one graph with one chain per image (inputs x_b_l, image b, level l): each
 * image's products run over its own 3136 rows — ONNX Runtime's GEMM measured 199 GF/s there
 * against 141 GF/s over a batch's 12544 rows (the result leaves the cache) — while the weight
 * gradients and hinge sums add up inside the graph (Gemm's C accumulates), so one gradient comes
 * out per step and ONNX Runtime frees each image's φ and ∂loss/∂φ before the next.
 */
function trainStepGraph({ params, levels, loss, search = 'auto' }: OrtTrainStepOptions, batch: number): Uint8Array {
  const { height, width } = levels[0];
  const { coordChannels: c, outChannels: dOut } = params;
  const g = new OnnxGraphBuilder(`cfa-train-step-b${batch}`);
  const weights = pyramidWeightInputs(g, levels, c, dOut);
  const coords = coordinatesInitializer(g, height, width, c);
  const coordTerm = lowerCoordinateTerm(g, coords, weights);
  const coordsAndOne = coordinatesAndOneInitializer(g, height, width, c);
  const ct = g.input('ct', [dOut, 'm']);
  const cn = g.input('cn', ['m']);
  const need = neighboursNeeded(loss);
  // rank through the pyramid when that is fewer multiply-adds (pyramid-search.ts), else φ·Cᵀ
  const viaPyramid = search === 'pyramid' || (search === 'auto' && pyramidSearchPays(levels, dOut, batch));
  const factors = viaPyramid ? lowerPyramidSearchFactors(g, weights, coords, ct, cn) : undefined;
  const lossInputs = {
    centres: g.input('centres', ['m', dOut]),
    r2: g.input('r2', []),
    attWeight: g.input('att_weight', []),
    repWeight: g.input('rep_weight', []),
  };
  let gradient: PyramidGradient | undefined;
  const sums: Record<(typeof SUM_OUTPUTS)[number], string> = {
    att_sum: '',
    att_active: '',
    rep_sum: '',
    rep_active: '',
  };
  const add = (total: string, term: string) => (total ? g.node('Add', [total, term])[0] : term);
  for (let b = 0; b < batch; b++) {
    const xs = pyramidInputs(g, levels, `x_${b}`);
    const phi = lowerPyramidForward(g, xs, weights, coordTerm, levels);
    const [distances, indices] = factors
      ? lowerPyramidNearest(g, xs, phi, factors, levels, need)
      : lowerNearest(g, phi, ct, cn, need);
    const terms = lowerCfaLossGradient(g, { phi, indices, distances, ...lossInputs }, loss);
    gradient = lowerPyramidWeightGradient(g, xs, terms.gradPhi, coordsAndOne, levels, gradient);
    sums.att_sum = add(sums.att_sum, terms.attSum);
    sums.att_active = add(sums.att_active, terms.attActive);
    sums.rep_sum = add(sums.rep_sum, terms.repSum);
    sums.rep_active = add(sums.rep_active, terms.repActive);
  }
  const [gradWeight, gradBias] = finishPyramidGradient(g, gradient!, c);
  const d = pyramidChannels(levels);
  const outputs: [string, string, number[]][] = [
    [gradWeight, 'grad_weight', [d + c, dOut]],
    [gradBias, 'grad_bias', [dOut]],
    ...SUM_OUTPUTS.map((name): [string, string, number[]] => [sums[name], name, []]),
  ];
  for (const [value, name, dims] of outputs) {
    g.node('Identity', [value], {}, [name]);
    g.output(name, dims);
  }
  return g.toBytes();
}

export async function createOrtTrainStep(options: OrtTrainStepOptions): Promise<OrtTrainStep> {
  const { engine, params: built, levels, loss } = options;
  const { height, width } = levels[0];
  const hw = height * width;
  const values = pyramidLength(levels);
  const { coordChannels: c, outChannels: dOut } = built;
  const d = pyramidChannels(levels);
  assert(
    built.inChannels === d,
    'createOrtTrainStep',
    () => `the descriptor takes ${built.inChannels} channels, the pyramid's levels hold ${d}`,
  );
  // one session per batch size (the last batch of an epoch may be smaller)
  const runners = new Map<number, OrtRunner>();
  const runnerFor = async (batch: number): Promise<OrtRunner> => {
    let runner = runners.get(batch);
    if (!runner) {
      runner = await createOrtRunner(engine, trainStepGraph(options, batch), `CFA training step (batch ${batch})`);
      runners.set(batch, runner);
    }
    return runner;
  };
  const scalar = (v: number) => ({ data: new Float32Array([v]), dims: [] });
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
      assert(
        params.inChannels === d && params.outChannels === dOut && params.coordChannels === c && bank.dim === dOut,
        'OrtTrainStep.run',
        () =>
          `the step was built for ${d}+${c}→${dOut}; got params ${params.inChannels}+${params.coordChannels}→${params.outChannels} and a bank of dimension ${bank.dim}`,
      );
      const count = images.length * hw;
      const scale = termScales(count, loss);
      const feeds: Record<string, OrtFeed> = {
        ...pyramidWeightFeeds(params.weight, params.bias, levels, c, dOut),
        ct: { data: bank.transposed, dims: [dOut, bank.size] },
        cn: { data: bank.squaredNorms, dims: [bank.size] },
        centres: { data: bank.centres, dims: [bank.size, dOut] },
        r2: scalar(r * r),
        att_weight: scalar(scale.att / loss.nu),
        rep_weight: scalar(scale.rep / loss.nu),
      };
      images.forEach((x, b) => Object.assign(feeds, pyramidFeeds(x, levels, `x_${b}`)));
      const out = await (await runnerFor(images.length)).run(feeds);
      const first = (name: string) => (out[name].data as Float32Array)[0];
      const sums: LossSums = {
        attSum: first('att_sum'),
        attActive: first('att_active'),
        repSum: first('rep_sum'),
        repActive: first('rep_active'),
      };
      return {
        ...lossFromSums(sums, count, r, loss),
        gradWeight: out.grad_weight.data as Float32Array,
        gradBias: out.grad_bias.data as Float32Array,
      };
    },
    async release() {
      for (const runner of runners.values()) await runner.release();
    },
  };
}
