/**
 * A fitted CRAD model's features → reconstruction distances on either engine, behind one interface:
 * ONNX Runtime runs the lowered graph (crad-onnx.ts, eval mode), TensorFlow.js the same forward
 * pass the trainer differentiates (crad-forward.ts, eval mode).
 *
 * @example
 * ```ts
 * const scorer = await createCradScorer(model);
 * const d = await scorer.distances(features, 4); // [4, h, w]
 * await scorer.release();
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { attr, createOrtRunner, OnnxGraphBuilder } from '@cfa/tensor-runtime';
import { cradForwardTf } from './crad-forward';
import { lowerCradDistances } from './crad-onnx';
import type { FittedCrad } from './fit';
import { stateTensors } from './state-tensors';

export interface CradScorer {
  /** features [batch, h, w, C] (NHWC) → distances [batch, h, w]. */
  distances(features: Float32Array, batch: number): Promise<Float32Array>;
  release(): Promise<void>;
}

export async function createCradScorer(model: FittedCrad): Promise<CradScorer> {
  const { engine, grid } = model;
  const per = grid.height * grid.width * grid.channels;
  const check = (features: Float32Array, batch: number) => {
    if (features.length !== batch * per)
      throw new Error(
        `CRAD scorer: features must hold [${batch}, ${grid.height}, ${grid.width}, ${grid.channels}] values, got ${features.length}`,
      );
  };
  if (engine.name === 'ort') {
    const g = new OnnxGraphBuilder('crad-distances');
    const nhwc = g.input('features', ['n', grid.height, grid.width, grid.channels]);
    const nchw = g.node('Transpose', [nhwc], { perm: attr.ints([0, 3, 1, 2]) })[0];
    g.namedOutput(lowerCradDistances(g, nchw, model, 'crad'), 'distances', ['n', grid.height, grid.width]);
    const runner = await createOrtRunner(engine, g.toBytes(), 'CRAD distances');
    return {
      async distances(features, batch) {
        check(features, batch);
        const out = await runner.run({
          features: { data: features, dims: [batch, grid.height, grid.width, grid.channels] },
        });
        return out.distances.data as Float32Array;
      },
      release: () => runner.release(),
    };
  }
  const params = stateTensors(model.state);
  return {
    async distances(features, batch) {
      check(features, batch);
      const d = tf.tidy(
        () =>
          cradForwardTf(params, tf.tensor4d(features, [batch, grid.height, grid.width, grid.channels]), {
            training: false,
            blend: model.config.scoring,
          }).distances,
      );
      const data = (await d.data()) as Float32Array;
      d.dispose();
      return data;
    },
    release: async () => tf.dispose([...params.values()]),
  };
}
