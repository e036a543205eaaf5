/**
 * ∂loss/∂W and ∂loss/∂b of the CoordConv from ∂loss/∂φ — the large matrix product of a training
 * step (Xᵀ·G, [D, P]·[P, D′]) — on ONNX Runtime or TensorFlow.js:
 *
 *   ∂W[:D]  = Xᵀ · G          (all patches of the batch)
 *   ∂W[D:]  = coordsᵀ · Σ_b G_b (the coordinates are the same for every image)
 *   ∂b      = Σ_P G
 *
 * `compute` takes the upsampled embeddings; `computePyramids` the images' embedding pyramids (the
 * feature cache's form; on ONNX Runtime each level's product at its own size, as the fused
 * training step does it, see pyramid-descriptor-onnx.ts).
 *
 * @example
 * ```ts
 * const grad = await createDescriptorGradient({ engine, height: 56, width: 56, params, levels });
 * const { gradWeight, gradBias } = await grad.compute(embeddings, gradPhi, 4);
 * const same = await grad.computePyramids([p0, p1, p2, p3], gradPhi);
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { assert, createOrtRunner, type EngineSelection, OnnxGraphBuilder, type OrtRunner } from '@cfa/tensor-runtime';
import { type CoordConvParams, coordinateChannels } from './coord-conv';
import { coordinatesInitializer, lowerCoordConvWeightGradient, pyramidFeeds, pyramidInputs } from './coord-conv-onnx';
import { type EmbeddingLevel, expandPyramids, pyramidChannels } from './embedding-pyramid';
import { lowerPyramidDescriptorGradient } from './pyramid-descriptor-onnx';

interface WeightGradient {
  gradWeight: Float32Array;
  gradBias: Float32Array;
}

export interface DescriptorGradient {
  /** From upsampled embeddings [batch, HW, D] and ∂loss/∂φ [batch, HW, D′]. */
  compute(embeddings: Float32Array, gradPhi: Float32Array, batch: number): Promise<WeightGradient>;
  /** From the images' embedding pyramids (the runner's `levels`) and ∂loss/∂φ [images, HW, D′]. */
  computePyramids(pyramids: Float32Array[], gradPhi: Float32Array): Promise<WeightGradient>;
  release(): Promise<void>;
}

export interface DescriptorGradientOptions {
  engine: EngineSelection;
  height: number;
  width: number;
  params: CoordConvParams;
  /** The embedding pyramid's levels, for `computePyramids`. */
  levels?: EmbeddingLevel[];
}

/** The runner's levels, checked against its grid and channels. */
function levelsOf({ levels, height, width, params }: DescriptorGradientOptions): EmbeddingLevel[] {
  assert(
    levels !== undefined &&
      levels[0].height === height &&
      levels[0].width === width &&
      pyramidChannels(levels) === params.inChannels,
    'DescriptorGradient.computePyramids',
    () =>
      `the runner needs the pyramid's levels: the first one ${height}×${width}, ${params.inChannels} channels in all`,
  );
  return levels!;
}

function checkSizes(embeddings: Float32Array, gradPhi: Float32Array, p: number, d: number, dOut: number): void {
  assert(
    embeddings.length === p * d && gradPhi.length === p * dOut,
    'DescriptorGradient.compute',
    () =>
      `expected embeddings [${p}, ${d}] and gradPhi [${p}, ${dOut}], got ${embeddings.length} and ${gradPhi.length} values`,
  );
}

export async function createDescriptorGradient(options: DescriptorGradientOptions): Promise<DescriptorGradient> {
  return options.engine.name === 'ort' ? createOrtDescriptorGradient(options) : createTfDescriptorGradient(options);
}

function createTfDescriptorGradient(options: DescriptorGradientOptions): DescriptorGradient {
  const { height, width, params } = options;
  const hw = height * width;
  const { inChannels: d, coordChannels: c, outChannels: dOut } = params;
  const coordsT = tf.tensor2d(coordinateChannels(height, width, c === 3), [hw, c]);
  const compute = async (embeddings: Float32Array, gradPhi: Float32Array, batch: number): Promise<WeightGradient> => {
    const p = batch * hw;
    checkSizes(embeddings, gradPhi, p, d, dOut);
    const [gw, gb] = tf.tidy(() => {
      const g = tf.tensor2d(gradPhi, [p, dOut]);
      const perLocation = tf.sum(tf.reshape(g, [batch, hw, dOut]), 0);
      const dWx = tf.matMul(tf.tensor2d(embeddings, [p, d]), g, true, false);
      const dWc = tf.matMul(coordsT, perLocation, true, false);
      return [tf.concat([dWx, dWc], 0), tf.sum(perLocation, 0)];
    });
    const [gradWeight, gradBias] = (await Promise.all([gw.data(), gb.data()])) as Float32Array[];
    tf.dispose([gw, gb]);
    return { gradWeight, gradBias };
  };
  return {
    compute,
    computePyramids: async (pyramids, gradPhi) =>
      compute(expandPyramids(pyramids, levelsOf(options)), gradPhi, pyramids.length),
    release: async () => coordsT.dispose(),
  };
}

async function createOrtDescriptorGradient(options: DescriptorGradientOptions): Promise<DescriptorGradient> {
  const { engine, height, width, params } = options;
  const hw = height * width;
  const { inChannels: d, coordChannels: c, outChannels: dOut } = params;
  const g = new OnnxGraphBuilder('coord-conv-gradient');
  const coords = coordinatesInitializer(g, height, width, c);
  const [gradWeight, gradBias] = lowerCoordConvWeightGradient(
    g,
    g.input('x', ['p', d]),
    g.input('g', ['p', dOut]),
    coords,
    { hw, inChannels: d, coordChannels: c, outChannels: dOut },
  );
  g.namedOutput(gradWeight, 'grad_weight', [d + c, dOut]);
  g.namedOutput(gradBias, 'grad_bias', [dOut]);
  const runner = await createOrtRunner(engine, g.toBytes(), 'coord-conv gradient');
  const weightGradient = (out: Record<string, { data: Float32Array | BigInt64Array }>): WeightGradient => ({
    gradWeight: out.grad_weight.data as Float32Array,
    gradBias: out.grad_bias.data as Float32Array,
  });
  // one session per number of images, built on first use (a chain per image, as the training step)
  const pyramidRunners = new Map<number, Promise<OrtRunner>>();
  const pyramidRunner = (levels: EmbeddingLevel[], images: number): Promise<OrtRunner> => {
    let r = pyramidRunners.get(images);
    if (!r) {
      r = createOrtRunner(
        engine,
        pyramidGradientGraph(levels, params, images),
        `coord-conv gradient (pyramid, ${images})`,
      );
      pyramidRunners.set(images, r);
    }
    return r;
  };
  return {
    async compute(embeddings, gradPhi, batch) {
      const p = batch * hw;
      checkSizes(embeddings, gradPhi, p, d, dOut);
      const out = await runner.run({ x: { data: embeddings, dims: [p, d] }, g: { data: gradPhi, dims: [p, dOut] } });
      return weightGradient(out);
    },
    async computePyramids(pyramids, gradPhi) {
      const levels = levelsOf(options);
      assert(
        gradPhi.length === pyramids.length * hw * dOut,
        'DescriptorGradient.computePyramids',
        () => `expected gradPhi [${pyramids.length}, ${hw}, ${dOut}], got ${gradPhi.length} values`,
      );
      const feeds: Record<string, { data: Float32Array; dims: number[] }> = {};
      pyramids.forEach((pyramid, b) => {
        Object.assign(feeds, pyramidFeeds(pyramid, levels, `x_${b}`));
        feeds[`g_${b}`] = { data: gradPhi.subarray(b * hw * dOut, (b + 1) * hw * dOut), dims: [hw, dOut] };
      });
      return weightGradient(await (await pyramidRunner(levels, pyramids.length)).run(feeds));
    },
    async release() {
      await runner.release();
      for (const r of pyramidRunners.values()) await (await r).release();
    },
  };
}

/** ∂W, ∂b summed over `images` images, each given as its pyramid levels x_<b>_<l> and ∂loss/∂φ g_<b>. */
function pyramidGradientGraph(levels: EmbeddingLevel[], params: CoordConvParams, images: number): Uint8Array {
  const { coordChannels: c, outChannels: dOut } = params;
  const hw = levels[0].height * levels[0].width;
  const g = new OnnxGraphBuilder(`coord-conv-pyramid-gradient-${images}`);
  const sum = lowerPyramidDescriptorGradient(g, { levels, coordChannels: c });
  for (let b = 0; b < images; b++) sum.add({ xs: pyramidInputs(g, levels, `x_${b}`) }, g.input(`g_${b}`, [hw, dOut]));
  const [gradWeight, gradBias] = sum.total();
  g.namedOutput(gradWeight, 'grad_weight', [params.inChannels + c, dOut]);
  g.namedOutput(gradBias, 'grad_bias', [dOut]);
  return g.toBytes();
}
