/**
 * The reconstruction blend, its loss and distance by hand, and the ONNX lowering against the tfjs
 * forward (the reference parity of both is in packages/crad/src/official-parity.spec.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { createOrtRunner, createRng, OnnxGraphBuilder, selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  blendedReconstructionTf,
  featureMseLossTf,
  lowerReconstructionDistance,
  ReconstructionBlendSchema,
  reconstructionDistanceTf,
} from './reconstruction-score';

beforeAll(async () => {
  await selectEngine({ requested: 'tfjs', tfBackend: 'wasm' });
});

const blend = ReconstructionBlendSchema.parse({});

describe('blendedReconstructionTf', () => {
  it('R = F gives R′ = F (sim = 0.3 + 0.7) and zero loss and distance', async () => {
    const f = tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]);
    const b = blendedReconstructionTf({ reconstruction: f, features: f, ...blend });
    expect(Array.from(await b.data())).toEqual([1, 2, 3, 4]);
    expect((await featureMseLossTf(b, f).data())[0]).toBe(0);
    tf.dispose([f, b]);
  });

  it('orthogonal R with a large MSE: m = 0, cos = 0, so R′ = R', async () => {
    const r = tf.tensor4d([10, 0], [1, 1, 1, 2]);
    const f = tf.tensor4d([0, 10], [1, 1, 1, 2]);
    // mse = 100 → clamp(5, 0, 1) = 1 → round 1 → m = 0
    const b = blendedReconstructionTf({ reconstruction: r, features: f, ...blend });
    expect(Array.from(await b.data())).toEqual([10, 0]);
    const d = reconstructionDistanceTf(b, f);
    expect((await d.data())[0]).toBeCloseTo(Math.SQRT2 * 10, 5);
    tf.dispose([r, f, b, d]);
  });

  it('the ONNX lowering gives the tfjs distances (NCHW in)', async () => {
    const rng = createRng(4);
    const [n, h, w, c] = [2, 3, 3, 5];
    const rows = Float32Array.from({ length: n * h * w * c }, () => rng.normal());
    const feats = Float32Array.from({ length: n * h * w * c }, () => 2 * rng.normal());
    const expected = tf.tidy(() => {
      const f = tf.tensor4d(feats, [n, h, w, c]);
      return reconstructionDistanceTf(
        blendedReconstructionTf({ reconstruction: tf.tensor4d(rows, [n, h, w, c]), features: f, ...blend }),
        f,
      );
    });
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const g = new OnnxGraphBuilder('blend');
    const nchw = (name: string) =>
      g.node('Transpose', [g.input(name, [n, h, w, c])], { perm: { kind: 'ints', value: [0, 3, 1, 2] } })[0];
    g.namedOutput(lowerReconstructionDistance(g, nchw('r'), nchw('f'), blend), 'd', [n, h, w]);
    const runner = await createOrtRunner(engine, g.toBytes(), 'blend');
    const out = await runner.run({ r: { data: rows, dims: [n, h, w, c] }, f: { data: feats, dims: [n, h, w, c] } });
    await runner.release();
    expect(maxRelativeError(out.d.data as Float32Array, await expected.data())).toBeLessThan(1e-5);
    expected.dispose();
  });
});
