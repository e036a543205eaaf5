/**
 * A backbone's forward pass on either engine behind one interface: typed arrays in and out,
 * asynchronous, `release()` at the end. ONNX Runtime runs the definition lowered to ONNX
 * (`ort-runner.ts`); TensorFlow.js runs it op by op (`tf-runner.ts`, whose tensor-level runner
 * serves code that continues on tensors, such as the tfjs patch embedding).
 *
 * @example
 * ```ts
 * const runner = await createBackboneRunner({ engine, model: await loadBackbone({ name: 'resnet18' }), inputSize: 224 });
 * const maps = await runner.forward(images, 4); // images [4, 224, 224, 3] → [4,56,56,64], [4,28,28,128], [4,14,14,256]
 * await runner.release();
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EngineSelection } from '@cfa/tensor-runtime';
import type { BackboneModel } from '../backbone-model';
import { assertImageBatch } from './image-batch';
import { createOrtBackboneRunner, type FeatureMap } from './ort-runner';
import { createTfBackboneRunner } from './tf-runner';

export interface BackboneRunner {
  readonly engine: 'ort' | 'tfjs';
  /** images [batch, S, S, 3] float32 (NHWC, ImageNet-normalised) → feature maps [batch, h, w, C] in definition order. */
  forward(images: Float32Array, batch: number): Promise<FeatureMap[]>;
  release(): Promise<void>;
}

export interface BackboneRunnerOptions {
  engine: EngineSelection;
  model: BackboneModel;
  /** S: the images' side. */
  inputSize: number;
}

export async function createBackboneRunner({
  engine,
  model,
  inputSize,
}: BackboneRunnerOptions): Promise<BackboneRunner> {
  if (engine.name === 'ort') return { engine: 'ort', ...(await createOrtBackboneRunner(engine, model, inputSize)) };
  const runner = createTfBackboneRunner(model);
  return {
    engine: 'tfjs',
    async forward(images, batch) {
      assertImageBatch(`${model.definition.name}.forward`, images, batch, inputSize);
      const maps = tf.tidy(() => runner.forward(tf.tensor4d(images, [batch, inputSize, inputSize, 3])));
      const data = (await Promise.all(maps.map((m) => m.data()))) as Float32Array[];
      const out = maps.map((m, i) => ({ data: data[i], dims: m.shape }));
      tf.dispose(maps);
      return out;
    },
    release: async () => runner.dispose(),
  };
}
