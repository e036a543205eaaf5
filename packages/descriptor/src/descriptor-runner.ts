/**
 * The descriptor's forward runner: φ = [X, coords] · W + b on either engine, from a batch of
 * upsampled embeddings (`forward`) or from one image's embedding pyramid (`forwardPyramid`, the
 * feature cache's form). On ONNX Runtime the batch form is one MatMul (the coordinate term a
 * second, tiny one) and the pyramid form `lowerPyramidDescriptor`'s graph; on TensorFlow.js both
 * run `descriptorForwardTf`, a pyramid upsampled first. W and b are fed on every call since they
 * train. The graph pieces for fused graphs are pyramid-descriptor-onnx.ts and
 * embedding-descriptor-onnx.ts.
 *
 * @example
 * ```ts
 * const runner = await createDescriptorRunner({ engine, height: 56, width: 56, params });
 * const phi = await runner.forward(embeddings, 4, params); // [4, 3136, D'] flattened
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { assert, createOrtRunner, type EngineSelection, OnnxGraphBuilder, type OrtRunner } from '@cfa/tensor-runtime';
import { assertCoordConvShape, type CoordConvParams, coordinateChannels } from './coord-conv';
import {
  coordConvWeightFeeds,
  coordConvWeightInputs,
  type CoordConvShape,
  coordinatesInitializer,
  lowerCoordConvForward,
} from './coord-conv-onnx';
import { type EmbeddingLevel, expandPyramid, pyramidLevels } from './embedding-pyramid';
import { descriptorForwardTf } from './descriptor-tf';
import { lowerPyramidDescriptor, type PyramidDescriptorGraph } from './pyramid-descriptor-onnx';

export interface DescriptorRunner {
  readonly engine: 'ort' | 'tfjs';
  /** embeddings [batch, HW, D] → φ [batch, HW, D']. */
  forward(embeddings: Float32Array, batch: number, params: CoordConvParams): Promise<Float32Array>;
  /** One image's embedding pyramid (the runner's `levels`) → φ [HW, D']: on ONNX Runtime level by level. */
  forwardPyramid(pyramid: Float32Array, params: CoordConvParams): Promise<Float32Array>;
  release(): Promise<void>;
}

export interface DescriptorRunnerOptions {
  engine: EngineSelection;
  height: number;
  width: number;
  params: CoordConvParams;
  /** The embedding pyramid's levels, for `forwardPyramid`. */
  levels?: EmbeddingLevel[];
}

export async function createDescriptorRunner(options: DescriptorRunnerOptions): Promise<DescriptorRunner> {
  const { engine, height, width, params } = options;
  const hw = height * width;
  const { inChannels: d, coordChannels: c, outChannels: dOut } = params;
  const coords = coordinateChannels(height, width, c === 3);
  const checkParams = (p: CoordConvParams) => assertCoordConvShape('DescriptorRunner.forward', params, p);
  const check = (embeddings: Float32Array, batch: number, p: CoordConvParams) => {
    assert(
      embeddings.length === batch * hw * d,
      'DescriptorRunner.forward',
      () => `embeddings must hold [${batch}, ${hw}, ${d}] = ${batch * hw * d} values, got ${embeddings.length}`,
    );
    checkParams(p);
  };
  const levelsOf = (pyramid: Float32Array): EmbeddingLevel[] => {
    const { levels } = options;
    assert(
      levels !== undefined && levels[0].height === height && levels[0].width === width,
      'DescriptorRunner.forwardPyramid',
      () => `the runner needs the pyramid's levels, the first one ${height}×${width}`,
    );
    pyramidLevels(pyramid, levels!); // names the levels and the length when they disagree
    return levels!;
  };

  if (engine.name === 'ort') {
    const shape = { hw, inChannels: d, coordChannels: c, outChannels: dOut };
    // each graph is built on first use: fit on ONNX Runtime only ever calls forwardPyramid
    let batchRunner: Promise<OrtRunner> | undefined,
      pyramidRunner: Promise<{ runner: OrtRunner; graph: PyramidDescriptorGraph }> | undefined;
    return {
      engine: 'ort',
      async forward(embeddings, batch, p) {
        check(embeddings, batch, p);
        batchRunner ??= createOrtRunner(engine, batchForwardGraph(shape, height, width), 'coord-conv descriptor');
        const out = await (
          await batchRunner
        ).run({ x: { data: embeddings, dims: [batch, hw, d] }, ...coordConvWeightFeeds(p.weight, p.bias, shape) });
        return out.phi.data as Float32Array;
      },
      async forwardPyramid(pyramid, p) {
        const levels = levelsOf(pyramid);
        checkParams(p);
        pyramidRunner ??= pyramidForwardRunner(engine, levels, p);
        const { runner, graph } = await pyramidRunner;
        return (await runner.run(graph.feeds([pyramid], p))).phi.data as Float32Array;
      },
      async release() {
        if (batchRunner) await (await batchRunner).release();
        if (pyramidRunner) await (await pyramidRunner).runner.release();
      },
    };
  }

  const coordsTensor = tf.tensor2d(coords, [hw, c]);
  const forward = async (embeddings: Float32Array, batch: number, p: CoordConvParams) => {
    check(embeddings, batch, p);
    const phi = tf.tidy(() =>
      descriptorForwardTf({
        x: tf.tensor3d(embeddings, [batch, hw, d]),
        weight: tf.tensor2d(p.weight, [d + c, dOut]),
        bias: tf.tensor1d(p.bias),
        coords: coordsTensor,
      }),
    );
    const data = (await phi.data()) as Float32Array;
    phi.dispose();
    return data;
  };
  return {
    engine: 'tfjs',
    forward,
    forwardPyramid: async (pyramid, p) => forward(expandPyramid(pyramid, levelsOf(pyramid)), 1, p),
    release: async () => coordsTensor.dispose(),
  };
}

/** φ of a batch of upsampled embeddings [B, HW, D], weights as inputs (they train). */
function batchForwardGraph(shape: CoordConvShape, height: number, width: number): Uint8Array {
  const g = new OnnxGraphBuilder('coord-conv');
  const phi = lowerCoordConvForward(
    g,
    g.input('x', ['b', shape.hw, shape.inChannels]),
    coordConvWeightInputs(g, shape),
    coordinatesInitializer(g, height, width, shape.coordChannels),
    'batch',
  );
  g.namedOutput(phi, 'phi', ['b', shape.hw, shape.outChannels]);
  return g.toBytes();
}

/** φ of one image's pyramid, weights as inputs (they train). */
async function pyramidForwardRunner(
  engine: EngineSelection,
  levels: EmbeddingLevel[],
  params: CoordConvParams,
): Promise<{ runner: OrtRunner; graph: PyramidDescriptorGraph }> {
  const g = new OnnxGraphBuilder('coord-conv-pyramid');
  const graph = lowerPyramidDescriptor(g, { levels, params, weights: 'input' });
  g.namedOutput(graph.images[0].phi, 'phi', [levels[0].height * levels[0].width, params.outChannels]);
  return { runner: await createOrtRunner(engine, g.toBytes(), 'coord-conv descriptor (pyramid)'), graph };
}
