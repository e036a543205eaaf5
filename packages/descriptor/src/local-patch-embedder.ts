/**
 * Images → PatchCore's locally aware patch features on either engine, behind one interface: ONNX
 * Runtime runs backbone + `lowerLocalPatchFeatures` as one graph; TensorFlow.js runs the backbone
 * runner, then `localPatchFeatures`. Which of the backbone's tapped maps are aggregated is the
 * caller's choice (`maps`: indices into the definition's `featureNames`; PatchCore reads layer2
 * and layer3).
 *
 * @example
 * ```ts
 * const embedder = await createLocalPatchEmbedder({ engine, backbone, inputSize: 224, maps: [1, 2], patchSize: 3, preDim: 1024, targetDim: 1024 });
 * const features = await embedder.embed(images, 4); // 4 × Float32Array [28·28·1024] (row-major [H·W, targetDim])
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
import { localPatchFeatures } from './local-patch-features';
import { type LocalPatchFeatureOptions, lowerLocalPatchFeatures } from './local-patch-features-onnx';

export interface LocalPatchEmbedderOptions extends LocalPatchFeatureOptions {
  engine: EngineSelection;
  backbone: BackboneModel;
  inputSize: number;
  /** Indices of the backbone's tapped maps to aggregate, the patch grid's first (PatchCore: layer2, layer3 = [1, 2]). */
  maps: number[];
}

export interface LocalPatchEmbedder {
  readonly inputSize: number;
  /** The patch grid (the first aggregated map's) and the feature dimension (`targetDim`). */
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly engine: 'ort' | 'tfjs';
  /** images [batch, S, S, 3] (NHWC, ImageNet-normalised) → one [H·W, targetDim] array per image. */
  embed(images: Float32Array, batch: number): Promise<Float32Array[]>;
  release(): Promise<void>;
}

export async function createLocalPatchEmbedder(options: LocalPatchEmbedderOptions): Promise<LocalPatchEmbedder> {
  const { engine, backbone, inputSize, maps: picked, patchSize, preDim, targetDim } = options;
  const all = featureShapesFor(backbone, inputSize);
  if (picked.length === 0 || picked.some((i) => !Number.isInteger(i) || i < 0 || i >= all.length))
    throw new Error(
      `createLocalPatchEmbedder: maps must be indices of ${backbone.definition.name}'s tapped maps (${all.map((f, i) => `${i} = ${f.name}`).join(', ')}), got [${picked.join(', ')}]`,
    );
  const shapes = picked.map((i) => all[i]);
  const geometry = { inputSize, height: shapes[0].height, width: shapes[0].width, channels: targetDim };
  const perImage = geometry.height * geometry.width * targetDim;
  const split = (data: Float32Array, batch: number) =>
    Array.from({ length: batch }, (_, b) => data.slice(b * perImage, (b + 1) * perImage));
  const check = (images: Float32Array, batch: number) =>
    assertImageBatch('LocalPatchEmbedder.embed', images, batch, inputSize);

  if (engine.name === 'ort') {
    let runner: Promise<OrtRunner> | undefined;
    const graph = () => {
      const g = new OnnxGraphBuilder(`${backbone.definition.name}-local-patch-features`);
      const maps = lowerBackboneToOnnx(g, backbone, nhwcInputToNchw(g, 'images', inputSize));
      const features = lowerLocalPatchFeatures(
        g,
        picked.map((i) => maps[i]),
        shapes,
        { patchSize, preDim, targetDim },
      );
      g.node('Transpose', [features], { perm: attr.ints([0, 2, 3, 1]) }, ['features']);
      g.output('features', ['n', geometry.height, geometry.width, targetDim]);
      return g.toBytes();
    };
    return {
      ...geometry,
      engine: 'ort',
      async embed(images, batch) {
        check(images, batch);
        runner ??= createOrtRunner(engine, graph(), `${backbone.definition.name} local patch features`);
        const out = await (await runner).run({ images: { data: images, dims: [batch, inputSize, inputSize, 3] } });
        return split(out.features.data as Float32Array, batch);
      },
      async release() {
        if (runner) await (await runner).release();
      },
    };
  }

  const runner = createTfBackboneRunner(backbone);
  return {
    ...geometry,
    engine: 'tfjs',
    async embed(images, batch) {
      check(images, batch);
      const features = tf.tidy(() => {
        const maps = runner.forward(tf.tensor4d(images, [batch, inputSize, inputSize, 3]));
        return localPatchFeatures({ maps: picked.map((i) => maps[i]), patchSize, preDim, targetDim });
      });
      const data = (await features.data()) as Float32Array;
      features.dispose();
      return split(data, batch);
    },
    release: async () => runner.dispose(),
  };
}
