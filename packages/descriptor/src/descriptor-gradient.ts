/**
 * ∂loss/∂W and ∂loss/∂b of the CoordConv from ∂loss/∂φ — the large matrix product of a training
 * step (Xᵀ·G, [D, P]·[P, D′]) — on ONNX Runtime or TensorFlow.js:
 *
 *   ∂W[:D]  = Xᵀ · G          (all patches of the batch)
 *   ∂W[D:]  = coordsᵀ · Σ_b G_b (the coordinates are the same for every image)
 *   ∂b      = Σ_P G
 *
 * @example
 * ```ts
 * const grad = await createDescriptorGradient({ engine, height: 56, width: 56, params });
 * const { gradWeight, gradBias } = await grad.compute(embeddings, gradPhi, 4);
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { assert, createOrtRunner, type EngineSelection, OnnxGraphBuilder } from '@cfa/tensor-runtime';
import { type CoordConvParams, coordinateChannels } from './coord-conv';
import { coordinatesInitializer, lowerCoordConvWeightGradient } from './coord-conv-onnx';

export interface DescriptorGradient {
  compute(
    embeddings: Float32Array,
    gradPhi: Float32Array,
    batch: number,
  ): Promise<{ gradWeight: Float32Array; gradBias: Float32Array }>;
  release(): Promise<void>;
}

export interface DescriptorGradientOptions {
  engine: EngineSelection;
  height: number;
  width: number;
  params: CoordConvParams;
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

function createTfDescriptorGradient({ height, width, params }: DescriptorGradientOptions): DescriptorGradient {
  const hw = height * width;
  const { inChannels: d, coordChannels: c, outChannels: dOut } = params;
  const coordsT = tf.tensor2d(coordinateChannels(height, width, c === 3), [hw, c]);
  return {
    async compute(embeddings, gradPhi, batch) {
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
    },
    release: async () => coordsT.dispose(),
  };
}

async function createOrtDescriptorGradient({
  engine,
  height,
  width,
  params,
}: DescriptorGradientOptions): Promise<DescriptorGradient> {
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
  g.node('Identity', [gradWeight], {}, ['grad_weight']);
  g.node('Identity', [gradBias], {}, ['grad_bias']);
  g.output('grad_weight', [d + c, dOut]);
  g.output('grad_bias', [dOut]);
  const runner = await createOrtRunner(engine, g.toBytes(), 'coord-conv gradient');
  return {
    async compute(embeddings, gradPhi, batch) {
      const p = batch * hw;
      checkSizes(embeddings, gradPhi, p, d, dOut);
      const out = await runner.run({ x: { data: embeddings, dims: [p, d] }, g: { data: gradPhi, dims: [p, dOut] } });
      return { gradWeight: out.grad_weight.data as Float32Array, gradBias: out.grad_bias.data as Float32Array };
    },
    release: () => runner.release(),
  };
}
