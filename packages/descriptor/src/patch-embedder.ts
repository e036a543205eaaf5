/**
 * Images → patch embeddings on either engine, behind one interface: ONNX Runtime runs backbone +
 * embedding as one lowered graph; TensorFlow.js runs the backbone runner then `patchEmbedding`.
 *
 * @example
 * ```ts
 * const embedder = await createPatchEmbedder({ engine, backbone, inputSize: 224 });
 * const features = await embedder.embed(images, 4); // Float32Array [4, 56, 56, 448]
 * await embedder.release();
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { attr, assert, createOrtRunner, type EngineSelection, OnnxGraphBuilder } from '@cfa/tensor-runtime';
import { type BackboneModel, createTfBackboneRunner, featureShapesFor, lowerBackboneToOnnx, nhwcInputToNchw } from '@cfa/backbone';
import { patchEmbedding } from './patch-embedding';
import { lowerPatchEmbeddingToOnnx } from './patch-embedding-onnx';

export interface PatchEmbedder {
  readonly inputSize: number;
  /** Embedding grid and channel sum D. */
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly engine: 'ort' | 'tfjs';
  /** images [batch, S, S, 3] (NHWC, normalised) → embeddings [batch, H, W, D]. */
  embed(images: Float32Array, batch: number): Promise<Float32Array>;
  release(): Promise<void>;
}

export interface PatchEmbedderOptions {
  engine: EngineSelection;
  backbone: BackboneModel;
  inputSize: number;
  /** Default: what the backbone's definition says (EfficientNet divides maps by channel count). */
  scaleByChannels?: boolean;
}

export async function createPatchEmbedder(options: PatchEmbedderOptions): Promise<PatchEmbedder> {
  const { engine, backbone, inputSize, scaleByChannels = backbone.definition.embedding.scaleByChannels } = options;
  const shapes = featureShapesFor(backbone, inputSize);
  const geometry = {
    inputSize,
    height: shapes[0].height,
    width: shapes[0].width,
    channels: shapes.reduce((s, f) => s + f.channels, 0),
  };
  const checkInput = (images: Float32Array, batch: number) =>
    assert(images.length === batch * inputSize * inputSize * 3, 'PatchEmbedder.embed',
      () => `images must hold [${batch}, ${inputSize}, ${inputSize}, 3] = ${batch * inputSize * inputSize * 3} values, got ${images.length}`);

  if (engine.name === 'ort') {
    const g = new OnnxGraphBuilder(`${backbone.definition.name}-embedding`);
    const maps = lowerBackboneToOnnx(g, backbone, nhwcInputToNchw(g, 'images', inputSize));
    const embedding = lowerPatchEmbeddingToOnnx(g, maps, shapes, scaleByChannels);
    g.node('Transpose', [embedding], { perm: attr.ints([0, 2, 3, 1]) }, ['embedding']);
    g.output('embedding', ['n', geometry.height, geometry.width, geometry.channels]);
    const runner = await createOrtRunner(engine, g.toBytes(), `${backbone.definition.name} embedding`);
    return {
      ...geometry,
      engine: 'ort',
      async embed(images, batch) {
        checkInput(images, batch);
        const out = await runner.run({ images: { data: images, dims: [batch, inputSize, inputSize, 3] } });
        return out.embedding.data as Float32Array;
      },
      release: () => runner.release(),
    };
  }

  const runner = createTfBackboneRunner(backbone);
  return {
    ...geometry,
    engine: 'tfjs',
    async embed(images, batch) {
      checkInput(images, batch);
      const embedding = tf.tidy(() => patchEmbedding({ maps: runner.forward(tf.tensor4d(images, [batch, inputSize, inputSize, 3])), scaleByChannels }));
      const data = (await embedding.data()) as Float32Array;
      embedding.dispose();
      return data;
    },
    release: async () => runner.dispose(),
  };
}
