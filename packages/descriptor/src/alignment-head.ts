/**
 * The trainable head of FYD's fine alignment (docs/methods/fyd.md, "Fine alignment"): an adaptor
 * — a 1×1 convolution, i.e. one linear map per patch, Σ C → D — whose output z is the feature the
 * per-position Gaussians model, and a predictor — 1×1 conv D → D_h, ReLU, 1×1 conv D_h → D — used
 * only in training, in the predictor / stop-gradient form of non-contrastive learning (SimSiam,
 * Chen & He 2021; BYOL, Grill et al. 2020). Both are our reading of the paper's description.
 *
 *   z = E·A + a        h = relu(z·P₁ + p₁)        p = h·P₂ + p₂
 *
 * and, for a loss gradient ∂L/∂p (scoring's `denseSimilarityLoss`: z enters the loss as a
 * constant — the stop-gradient — so the adaptor learns only through the predictor's branch):
 *
 *   ∂P₂ = hᵀ·∂p   ∂p₂ = Σ ∂p   ∂h = ∂p·P₂ᵀ ⊙ [h > 0]   ∂P₁ = zᵀ·∂h   ∂p₁ = Σ ∂h
 *   ∂z = ∂h·P₁ᵀ   ∂A = Eᵀ·∂z   ∂a = Σ ∂z   ∂E = ∂z·Aᵀ (for feature-level alignment before it)
 *
 * On either engine (ONNX Runtime graphs with the weights fed, or TensorFlow.js), rows = patches of
 * a batch. Initialisation: nn.Conv2d's default (U(±1/√fan_in), weights and biases).
 *
 * @example
 * ```ts
 * const params = createAlignmentHeadParams({ inChannels: 448, dim: 100, predictorHidden: 25, seed: 0 });
 * const head = await createAlignmentHeadRunner({ engine, params });
 * const { z, hiddenPre, p } = await head.forward(embedding, rows);
 * const { grads, gradEmbedding } = await head.backward({ embedding, z, hiddenPre, gradP, rows, trainAdaptor: true, wantEmbedding: true });
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  assert,
  attr,
  createOrtRunner,
  createRng,
  type EngineSelection,
  OnnxGraphBuilder,
  type OrtRunner,
} from '@cfa/tensor-runtime';

export interface AlignmentHeadParams {
  inChannels: number;
  /** D: the adaptor's output, what the Gaussians model. */
  dim: number;
  /** D_h: the predictor's hidden width. */
  predictorHidden: number;
  /** [Σ C, D], [D]. */
  adaptorWeight: Float32Array;
  adaptorBias: Float32Array;
  /** [D, D_h], [D_h], [D_h, D], [D]. */
  predictorWeight1: Float32Array;
  predictorBias1: Float32Array;
  predictorWeight2: Float32Array;
  predictorBias2: Float32Array;
}

/** The parameters in a fixed order: adaptor first, then the predictor (the optimiser's and the gradients'). */
export const alignmentHeadTensors = (p: AlignmentHeadParams): Float32Array[] => [
  p.adaptorWeight,
  p.adaptorBias,
  p.predictorWeight1,
  p.predictorBias1,
  p.predictorWeight2,
  p.predictorBias2,
];

export function createAlignmentHeadParams(options: {
  inChannels: number;
  dim: number;
  predictorHidden: number;
  seed: number;
}): AlignmentHeadParams {
  const { inChannels, dim, predictorHidden, seed } = options;
  assert(
    [inChannels, dim, predictorHidden].every((d) => Number.isInteger(d) && d > 0),
    'createAlignmentHeadParams',
    () =>
      `inChannels, dim and predictorHidden must be positive integers, got ${inChannels}, ${dim}, ${predictorHidden}`,
  );
  const rng = createRng(seed).fork('alignment-head');
  // nn.Conv2d / nn.Linear default: kaiming_uniform(a = √5) → U(±1/√fan_in), the bias the same
  const uniform = (fanIn: number, length: number) => {
    const bound = 1 / Math.sqrt(fanIn);
    return Float32Array.from({ length }, () => rng.uniform(-bound, bound));
  };
  return {
    inChannels,
    dim,
    predictorHidden,
    adaptorWeight: uniform(inChannels, inChannels * dim),
    adaptorBias: uniform(inChannels, dim),
    predictorWeight1: uniform(dim, dim * predictorHidden),
    predictorBias1: uniform(dim, predictorHidden),
    predictorWeight2: uniform(predictorHidden, predictorHidden * dim),
    predictorBias2: uniform(predictorHidden, dim),
  };
}

export function cloneAlignmentHeadParams(p: AlignmentHeadParams): AlignmentHeadParams {
  const [adaptorWeight, adaptorBias, predictorWeight1, predictorBias1, predictorWeight2, predictorBias2] =
    alignmentHeadTensors(p).map((t) => t.slice());
  return { ...p, adaptorWeight, adaptorBias, predictorWeight1, predictorBias1, predictorWeight2, predictorBias2 };
}

export interface HeadForward {
  /** [rows, D]: the adaptor's output. */
  z: Float32Array;
  /** [rows, D_h]: the predictor's hidden layer before its ReLU. */
  hiddenPre: Float32Array;
  /** [rows, D]: the predictor's output. */
  p: Float32Array;
}

export interface HeadBackwardParams {
  embedding: Float32Array;
  z: Float32Array;
  hiddenPre: Float32Array;
  /** ∂L/∂p [rows, D]. */
  gradP: Float32Array;
  rows: number;
  /** Whether the adaptor learns (else its gradients are zeros). */
  trainAdaptor: boolean;
  /** Whether ∂L/∂E is wanted (feature-level alignment learns through it). */
  wantEmbedding: boolean;
}

export interface AlignmentHeadRunner {
  /** The adaptor alone: embedding [rows, Σ C] → z [rows, D] (the Gaussians' features). */
  adapt(embedding: Float32Array, rows: number): Promise<Float32Array>;
  forward(embedding: Float32Array, rows: number): Promise<HeadForward>;
  /** Gradients in `alignmentHeadTensors` order, and ∂L/∂E when asked. */
  backward(params: HeadBackwardParams): Promise<{ grads: Float32Array[]; gradEmbedding?: Float32Array }>;
  release(): Promise<void>;
}

export interface AlignmentHeadRunnerOptions {
  engine: EngineSelection;
  /** Read at every call: the optimiser updates them in place. */
  params: AlignmentHeadParams;
}

function checkRows(op: string, params: AlignmentHeadParams, rows: number, arrays: [string, Float32Array, number][]) {
  assert(Number.isInteger(rows) && rows > 0, op, () => `rows must be a positive integer, got ${rows}`);
  for (const [name, a, width] of arrays)
    assert(
      a.length === rows * width,
      op,
      () => `${name} holds ${a.length} values, [${rows}, ${width}] needs ${rows * width}`,
    );
}

/** The backward pass's arrays against its rows: embedding [rows, C], z and ∂p [rows, D], the predictor's hidden pre-activation [rows, D/4]. */
function checkBackwardRows(params: AlignmentHeadParams, b: Parameters<AlignmentHeadRunner['backward']>[0]) {
  const { inChannels: c, dim: d, predictorHidden: hd } = params;
  checkRows('AlignmentHead.backward', params, b.rows, [
    ['embedding', b.embedding, c],
    ['z', b.z, d],
    ['hiddenPre', b.hiddenPre, hd],
    ['gradP', b.gradP, d],
  ]);
}

export async function createAlignmentHeadRunner(options: AlignmentHeadRunnerOptions): Promise<AlignmentHeadRunner> {
  return options.engine.name === 'ort' ? createOrtHead(options) : createTfHead(options);
}

function createTfHead({ params }: AlignmentHeadRunnerOptions): AlignmentHeadRunner {
  const { inChannels: c, dim: d, predictorHidden: hd } = params;
  const weights = () => ({
    a: tf.tensor2d(params.adaptorWeight, [c, d]),
    ab: tf.tensor1d(params.adaptorBias),
    p1: tf.tensor2d(params.predictorWeight1, [d, hd]),
    p1b: tf.tensor1d(params.predictorBias1),
    p2: tf.tensor2d(params.predictorWeight2, [hd, d]),
    p2b: tf.tensor1d(params.predictorBias2),
  });
  const read = async (ts: tf.Tensor[]) => {
    const out = (await Promise.all(ts.map((t) => t.data()))) as Float32Array[];
    tf.dispose(ts);
    return out;
  };
  return {
    async adapt(embedding, rows) {
      checkRows('AlignmentHead.adapt', params, rows, [['embedding', embedding, c]]);
      const z = tf.tidy(() => {
        const w = weights();
        return tf.add(tf.matMul(tf.tensor2d(embedding, [rows, c]), w.a), w.ab);
      });
      return (await read([z]))[0];
    },
    async forward(embedding, rows) {
      checkRows('AlignmentHead.forward', params, rows, [['embedding', embedding, c]]);
      const outs = tf.tidy(() => {
        const w = weights();
        const z = tf.add(tf.matMul(tf.tensor2d(embedding, [rows, c]), w.a), w.ab);
        const pre = tf.add(tf.matMul(z, w.p1), w.p1b);
        const p = tf.add(tf.matMul(tf.relu(pre), w.p2), w.p2b);
        return [z, pre, p];
      });
      const [z, hiddenPre, p] = await read(outs);
      return { z, hiddenPre, p };
    },
    async backward(b) {
      checkBackwardRows(params, b);
      const outs = tf.tidy(() => {
        const w = weights();
        const dp = tf.tensor2d(b.gradP, [b.rows, d]);
        const pre = tf.tensor2d(b.hiddenPre, [b.rows, hd]);
        const z = tf.tensor2d(b.z, [b.rows, d]);
        const gP2 = tf.matMul(tf.relu(pre), dp, true, false);
        const gP2b = tf.sum(dp, 0);
        const dh = tf.mul(tf.matMul(dp, w.p2, false, true), tf.step(pre));
        const gP1 = tf.matMul(z, dh, true, false);
        const gP1b = tf.sum(dh, 0);
        const out: tf.Tensor[] = [gP1, gP1b, gP2, gP2b];
        if (b.trainAdaptor || b.wantEmbedding) {
          const dz = tf.matMul(dh, w.p1, false, true);
          if (b.trainAdaptor)
            out.push(tf.matMul(tf.tensor2d(b.embedding, [b.rows, c]), dz, true, false), tf.sum(dz, 0));
          if (b.wantEmbedding) out.push(tf.matMul(dz, w.a, false, true));
        }
        return out;
      });
      return headGrads(params, await read(outs), b);
    },
    release: async () => {},
  };
}

/** The runners' outputs (predictor first, then the adaptor's when it trains, then ∂E) in `alignmentHeadTensors` order. */
function headGrads(
  params: AlignmentHeadParams,
  outs: Float32Array[],
  b: Pick<HeadBackwardParams, 'trainAdaptor' | 'wantEmbedding'>,
): { grads: Float32Array[]; gradEmbedding?: Float32Array } {
  const [gP1, gP1b, gP2, gP2b, ...rest] = outs;
  const [gA, gAb] = b.trainAdaptor
    ? [rest[0], rest[1]]
    : [new Float32Array(params.adaptorWeight.length), new Float32Array(params.adaptorBias.length)];
  const gradEmbedding = b.wantEmbedding ? rest[b.trainAdaptor ? 2 : 0] : undefined;
  return { grads: [gA, gAb, gP1, gP1b, gP2, gP2b], ...(gradEmbedding ? { gradEmbedding } : {}) };
}

async function createOrtHead({ engine, params }: AlignmentHeadRunnerOptions): Promise<AlignmentHeadRunner> {
  const { inChannels: c, dim: d, predictorHidden: hd } = params;
  const weightInputs = (g: OnnxGraphBuilder) => ({
    a: g.input('adaptor_weight', [c, d]),
    ab: g.input('adaptor_bias', [d]),
    p1: g.input('predictor_weight1', [d, hd]),
    p1b: g.input('predictor_bias1', [hd]),
    p2: g.input('predictor_weight2', [hd, d]),
    p2b: g.input('predictor_bias2', [d]),
  });
  const weightFeeds = () => ({
    adaptor_weight: { data: params.adaptorWeight, dims: [c, d] },
    adaptor_bias: { data: params.adaptorBias, dims: [d] },
    predictor_weight1: { data: params.predictorWeight1, dims: [d, hd] },
    predictor_bias1: { data: params.predictorBias1, dims: [hd] },
    predictor_weight2: { data: params.predictorWeight2, dims: [hd, d] },
    predictor_bias2: { data: params.predictorBias2, dims: [d] },
  });
  const linear = (g: OnnxGraphBuilder, x: string, w: string, b: string) =>
    g.node('Add', [g.node('MatMul', [x, w])[0], b])[0];
  const sumRows = (g: OnnxGraphBuilder, x: string) =>
    g.node('ReduceSum', [x, g.ints('axes', [0])], { keepdims: attr.int(0) })[0];

  const forwardGraph = (adaptOnly: boolean) => {
    const g = new OnnxGraphBuilder(adaptOnly ? 'alignment-adaptor' : 'alignment-head-forward');
    const w = weightInputs(g);
    const z = linear(g, g.input('embedding', ['m', c]), w.a, w.ab);
    g.namedOutput(z, 'z', ['m', d]);
    if (!adaptOnly) {
      const pre = linear(g, z, w.p1, w.p1b);
      g.namedOutput(pre, 'hidden_pre', ['m', hd]);
      g.namedOutput(linear(g, g.node('Relu', [pre])[0], w.p2, w.p2b), 'p', ['m', d]);
    }
    return g.toBytes();
  };
  const backwardGraph = (trainAdaptor: boolean, wantEmbedding: boolean) => {
    const g = new OnnxGraphBuilder('alignment-head-backward');
    const w = weightInputs(g);
    const dp = g.input('grad_p', ['m', d]);
    const pre = g.input('hidden_pre', ['m', hd]);
    const z = g.input('z', ['m', d]);
    const e = g.input('embedding', ['m', c]);
    const tT = (x: string) => g.node('Transpose', [x], { perm: attr.ints([1, 0]) })[0];
    g.namedOutput(g.node('MatMul', [tT(g.node('Relu', [pre])[0]), dp])[0], 'g_p2', [hd, d]);
    g.namedOutput(sumRows(g, dp), 'g_p2b', [d]);
    const positive = g.node('Cast', [g.node('Greater', [pre, g.initializer('zero', new Float32Array([0]), [])])[0]], {
      to: attr.int(1),
    })[0];
    const dh = g.node('Mul', [g.node('MatMul', [dp, tT(w.p2)])[0], positive])[0];
    g.namedOutput(g.node('MatMul', [tT(z), dh])[0], 'g_p1', [d, hd]);
    g.namedOutput(sumRows(g, dh), 'g_p1b', [hd]);
    if (trainAdaptor || wantEmbedding) {
      const dz = g.node('MatMul', [dh, tT(w.p1)])[0];
      if (trainAdaptor) {
        g.namedOutput(g.node('MatMul', [tT(e), dz])[0], 'g_a', [c, d]);
        g.namedOutput(sumRows(g, dz), 'g_ab', [d]);
      }
      if (wantEmbedding) g.namedOutput(g.node('MatMul', [dz, tT(w.a)])[0], 'g_e', ['m', c]);
    }
    return g.toBytes();
  };
  const runners = new Map<string, Promise<OrtRunner>>();
  const runner = (key: string, build: () => Uint8Array) => {
    let r = runners.get(key);
    if (!r) runners.set(key, (r = createOrtRunner(engine, build(), `alignment head ${key}`)));
    return r;
  };
  /** The forward graph (adaptor only, or the whole head) on an embedding [rows, Σ C]. */
  const runForward = async (adaptOnly: boolean, embedding: Float32Array, rows: number) => {
    checkRows(`AlignmentHead.${adaptOnly ? 'adapt' : 'forward'}`, params, rows, [['embedding', embedding, c]]);
    const r = await runner(adaptOnly ? 'adapt' : 'forward', () => forwardGraph(adaptOnly));
    return r.run({ ...weightFeeds(), embedding: { data: embedding, dims: [rows, c] } });
  };
  return {
    adapt: async (embedding, rows) => (await runForward(true, embedding, rows)).z.data as Float32Array,
    async forward(embedding, rows) {
      const out = await runForward(false, embedding, rows);
      return {
        z: out.z.data as Float32Array,
        hiddenPre: out.hidden_pre.data as Float32Array,
        p: out.p.data as Float32Array,
      };
    },
    async backward(b) {
      checkBackwardRows(params, b);
      const key = `backward-${b.trainAdaptor}-${b.wantEmbedding}`;
      const out = await (
        await runner(key, () => backwardGraph(b.trainAdaptor, b.wantEmbedding))
      ).run({
        ...weightFeeds(),
        grad_p: { data: b.gradP, dims: [b.rows, d] },
        hidden_pre: { data: b.hiddenPre, dims: [b.rows, hd] },
        z: { data: b.z, dims: [b.rows, d] },
        embedding: { data: b.embedding, dims: [b.rows, c] },
      });
      const names = [
        'g_p1',
        'g_p1b',
        'g_p2',
        'g_p2b',
        ...(b.trainAdaptor ? ['g_a', 'g_ab'] : []),
        ...(b.wantEmbedding ? ['g_e'] : []),
      ];
      return headGrads(
        params,
        names.map((n) => out[n].data as Float32Array),
        b,
      );
    },
    async release() {
      for (const r of runners.values()) await (await r).release();
      runners.clear();
    },
  };
}

/** ONNX graph piece of the adaptor (inference): embedding [n, P, Σ C] → z [n, P, D]; weights prefixed with `name`. */
export function lowerAdaptor(
  g: OnnxGraphBuilder,
  embedding: string,
  params: AlignmentHeadParams,
  name: string,
): string {
  const w = g.initializer(`${name}.adaptor.weight`, params.adaptorWeight, [params.inChannels, params.dim]);
  const b = g.initializer(`${name}.adaptor.bias`, params.adaptorBias, [params.dim]);
  return g.node('Add', [g.node('MatMul', [embedding, w])[0], b])[0];
}
