/**
 * Images → patch embeddings on either engine, behind one interface: ONNX Runtime runs backbone +
 * embedding as one lowered graph; TensorFlow.js runs the backbone runner then `patchEmbedding`.
 *
 * @example
 * ```ts
 * const embedder = await createPatchEmbedder({ engine, backbone, inputSize: 224 });
 * const features = await embedder.embed(images, 4); // Float32Array [4, 56, 56, 448]
 * const pyramids = await embedder.embedPyramids(images, 4); // 4 × (56·56·64 + 28·28·128 + 14·14·256)
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
import { type EmbeddingLevel, pyramidLength } from './embedding-pyramid';
import { patchEmbedding, pooledMaps } from './patch-embedding-tf';
import { lowerPatchEmbeddingToOnnx, lowerPooledMapsToOnnx } from './patch-embedding-onnx';

export interface PatchEmbedder {
  readonly inputSize: number;
  /** Embedding grid and channel sum D. */
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly engine: 'ort' | 'tfjs';
  /** The pooled maps' sizes, largest first: the layout of `embedPyramids`. */
  readonly levels: EmbeddingLevel[];
  /** images [batch, S, S, 3] (NHWC, normalised) → embeddings [batch, H, W, D]. */
  embed(images: Float32Array, batch: number): Promise<Float32Array>;
  /** images → one embedding pyramid per image (see embedding-pyramid.ts): what the cache stores. */
  embedPyramids(images: Float32Array, batch: number): Promise<Float32Array[]>;
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
  const levels = shapes.map((f) => ({ height: f.height, width: f.width, channels: f.channels }));
  const geometry = {
    inputSize,
    height: shapes[0].height,
    width: shapes[0].width,
    channels: shapes.reduce((s, f) => s + f.channels, 0),
    levels,
  };
  const checkInput = (images: Float32Array, batch: number) =>
    assertImageBatch('PatchEmbedder.embed', images, batch, inputSize);

  if (engine.name === 'ort') {
    // two graphs over the same backbone, each built on first use (a run needs one of them)
    const graph = (kind: 'embedding' | 'pyramid'): Uint8Array => {
      const g = new OnnxGraphBuilder(`${backbone.definition.name}-${kind}`);
      const maps = lowerBackboneToOnnx(g, backbone, nhwcInputToNchw(g, 'images', inputSize));
      if (kind === 'embedding') {
        const embedding = lowerPatchEmbeddingToOnnx(g, maps, shapes, scaleByChannels);
        g.node('Transpose', [embedding], { perm: attr.ints([0, 2, 3, 1]) }, ['embedding']);
        g.output('embedding', ['n', geometry.height, geometry.width, geometry.channels]);
      } else {
        lowerPooledMapsToOnnx(g, maps, shapes, scaleByChannels).forEach((pooled, i) => {
          g.node('Transpose', [pooled], { perm: attr.ints([0, 2, 3, 1]) }, [`level_${i}`]);
          g.output(`level_${i}`, ['n', levels[i].height, levels[i].width, levels[i].channels]);
        });
      }
      return g.toBytes();
    };
    const runners: Partial<Record<'embedding' | 'pyramid', Promise<OrtRunner>>> = {};
    const runner = (kind: 'embedding' | 'pyramid') =>
      (runners[kind] ??= createOrtRunner(engine, graph(kind), `${backbone.definition.name} ${kind}`));
    const feeds = (images: Float32Array, batch: number) => ({
      images: { data: images, dims: [batch, inputSize, inputSize, 3] },
    });
    return {
      ...geometry,
      engine: 'ort',
      async embed(images, batch) {
        checkInput(images, batch);
        const out = await (await runner('embedding')).run(feeds(images, batch));
        return out.embedding.data as Float32Array;
      },
      async embedPyramids(images, batch) {
        checkInput(images, batch);
        const out = await (await runner('pyramid')).run(feeds(images, batch));
        return interleaveLevels(
          levels.map((_, i) => out[`level_${i}`].data as Float32Array),
          levels,
          batch,
        );
      },
      async release() {
        for (const r of Object.values(runners)) await (await r).release();
      },
    };
  }

  const runner = createTfBackboneRunner(backbone);
  return {
    ...geometry,
    engine: 'tfjs',
    async embed(images, batch) {
      checkInput(images, batch);
      const embedding = tf.tidy(() =>
        patchEmbedding({
          maps: runner.forward(tf.tensor4d(images, [batch, inputSize, inputSize, 3])),
          scaleByChannels,
        }),
      );
      const data = (await embedding.data()) as Float32Array;
      embedding.dispose();
      return data;
    },
    async embedPyramids(images, batch) {
      checkInput(images, batch);
      const pooled = tf.tidy(() =>
        pooledMaps({ maps: runner.forward(tf.tensor4d(images, [batch, inputSize, inputSize, 3])), scaleByChannels }),
      );
      const data = (await Promise.all(pooled.map((p) => p.data()))) as Float32Array[];
      tf.dispose(pooled);
      return interleaveLevels(data, levels, batch);
    },
    release: async () => runner.dispose(),
  };
}

/** Per-level batches [batch, h, w, C] → one pyramid per image. */
function interleaveLevels(perLevel: Float32Array[], levels: EmbeddingLevel[], batch: number): Float32Array[] {
  return Array.from({ length: batch }, (_, b) => {
    const out = new Float32Array(pyramidLength(levels));
    let offset = 0;
    levels.forEach((l, i) => {
      const n = l.height * l.width * l.channels;
      out.set(perLevel[i].subarray(b * n, (b + 1) * n), offset);
      offset += n;
    });
    return out;
  });
}
