/**
 * Images → MFCN neck features (mfcn-neck.ts) on either engine: ONNX Runtime runs backbone + neck as
 * one lowered graph; TensorFlow.js runs the backbone runner then `mfcnNeckTf`. One level per image,
 * [H, W, Σ C] row-major (NHWC): what CRAD reconstructs and the feature cache stores for it.
 *
 * @example
 * ```ts
 * const embedder = await createMfcnEmbedder({ engine, backbone, inputSize: 224 });
 * const perImage = await embedder.embed(images, 4); // 4 × Float32Array(28·28·216)
 * await embedder.release();
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { attr, createOrtRunner, type EngineSelection, OnnxGraphBuilder, type OrtRunner } from '@cfa/tensor-runtime';
import {
  assertImageBatch,
  type BackboneModel,
  createTfBackboneRunner,
  featureShapesFor,
  lowerBackboneToOnnx,
  nhwcInputToNchw,
} from '@cfa/backbone';
import type { EmbeddingLevel } from './embedding-pyramid';
import { lowerMfcnNeck, mfcnNeckTf } from './mfcn-neck';

export interface MfcnEmbedder {
  readonly inputSize: number;
  /** The neck's grid and channels: one level. */
  readonly level: EmbeddingLevel;
  /** images [batch, S, S, 3] (NHWC, normalised) → one [H·W·C] array per image. */
  embed(images: Float32Array, batch: number): Promise<Float32Array[]>;
  release(): Promise<void>;
}

export async function createMfcnEmbedder({
  engine,
  backbone,
  inputSize,
}: {
  engine: EngineSelection;
  backbone: BackboneModel;
  inputSize: number;
}): Promise<MfcnEmbedder> {
  const shapes = featureShapesFor(backbone, inputSize);
  const level: EmbeddingLevel = {
    height: shapes[0].height,
    width: shapes[0].width,
    channels: shapes.reduce((a, s) => a + s.channels, 0),
  };
  const per = level.height * level.width * level.channels;
  const split = (data: Float32Array, batch: number) =>
    Array.from({ length: batch }, (_, b) => data.slice(b * per, (b + 1) * per));
  const check = (images: Float32Array, batch: number) =>
    assertImageBatch('MfcnEmbedder.embed', images, batch, inputSize);

  if (engine.name === 'ort') {
    let runner: Promise<OrtRunner> | undefined;
    const build = () => {
      const g = new OnnxGraphBuilder(`${backbone.definition.name}-mfcn`);
      const maps = lowerBackboneToOnnx(g, backbone, nhwcInputToNchw(g, 'images', inputSize));
      const neck = lowerMfcnNeck(g, maps, shapes);
      g.namedOutput(g.node('Transpose', [neck], { perm: attr.ints([0, 2, 3, 1]) })[0], 'features', [
        'n',
        level.height,
        level.width,
        level.channels,
      ]);
      return createOrtRunner(engine, g.toBytes(), `${backbone.definition.name} MFCN features`);
    };
    return {
      inputSize,
      level,
      async embed(images, batch) {
        check(images, batch);
        const out = await (
          await (runner ??= build())
        ).run({
          images: { data: images, dims: [batch, inputSize, inputSize, 3] },
        });
        return split(out.features.data as Float32Array, batch);
      },
      async release() {
        if (runner) await (await runner).release();
      },
    };
  }

  const runner = createTfBackboneRunner(backbone);
  return {
    inputSize,
    level,
    async embed(images, batch) {
      check(images, batch);
      const features = tf.tidy(() =>
        mfcnNeckTf(runner.forward(tf.tensor4d(images, [batch, inputSize, inputSize, 3])) as tf.Tensor4D[]),
      );
      const data = (await features.data()) as Float32Array;
      features.dispose();
      return split(data, batch);
    },
    release: async () => runner.dispose(),
  };
}
