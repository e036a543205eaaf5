/**
 * The continuous memory's bilinear read against PyTorch's own `F.grid_sample` as CRAD calls it
 * (bilinear, align_corners=False, zero padding; fixture from tools/torch-reference/crad_fixtures.py,
 * coordinates partly beyond [−1, 1]): the sample on both engines, and on TensorFlow.js its gradients
 * with respect to the grid and to the coordinates, all within 1e-4 relative.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { decodeSafetensors } from '@cfa/backbone';
import { createOrtRunner, createRng, OnnxGraphBuilder, selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  continuousMemoryTf,
  gridTransposed,
  initContinuousMemory,
  lowerContinuousMemory,
  lowerSampleGrid,
  sampleGridTf,
} from './continuous-memory';

const path = new URL('./__fixtures__/grid-sample.torch.safetensors', import.meta.url);
const { tensors } = decodeSafetensors(readFileSync(path), path.pathname);
const t = (k: string) => tensors.get(k)!;

beforeAll(async () => {
  await selectEngine({ requested: 'tfjs', tfBackend: 'wasm' });
});

describe('sampleGridTf against torch grid_sample (align_corners=False, zeros)', () => {
  const grid = t('grid'); // [1, 6, 5, 5]
  const coords = t('coords'); // [40, 2]

  it('samples and both gradients match within 1e-4', async () => {
    const before = tf.memory().numTensors;
    const g = tf.tensor4d(grid.data, grid.shape as [number, number, number, number]);
    const c = tf.tensor2d(coords.data, [40, 2]);
    const up = tf.tensor2d(t('upstream').data, [40, 6]);
    const sample = sampleGridTf(g, c);
    const [gradGrid, gradCoords] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(sampleGridTf(a as tf.Tensor4D, b as tf.Tensor2D), up)),
    )([g, c]);
    expect(maxRelativeError(await sample.data(), t('sample').data)).toBeLessThan(1e-4);
    expect(maxRelativeError(await gradGrid.data(), t('grad.grid').data)).toBeLessThan(1e-4);
    expect(maxRelativeError(await gradCoords.data(), t('grad.coords').data)).toBeLessThan(1e-4);
    tf.dispose([g, c, up, sample, gradGrid, gradCoords]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the ONNX lowering (opset 13, no GridSample) gives the same samples on ONNX Runtime', async () => {
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const g = new OnnxGraphBuilder('grid-sample');
    const gridT = g.initializer('grid_t', gridTransposed(grid), [25, 6]);
    g.namedOutput(lowerSampleGrid(g, gridT, g.input('coords', ['n', 2]), 5), 'sample', ['n', 6]);
    const runner = await createOrtRunner(engine, g.toBytes(), 'grid sample');
    const out = await runner.run({ coords: { data: coords.data, dims: [40, 2] } });
    await runner.release();
    expect(maxRelativeError(out.sample.data as Float32Array, t('sample').data)).toBeLessThan(1e-4);
  });
});

describe('sampleGridTf by hand', () => {
  it('grid=[1,1,2,2] (1 2 / 3 4): the centre averages, a corner coordinate reads a quarter of its cell, beyond the edge reads 0', async () => {
    const g = tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]);
    // (0,0) → p = (0.5, 0.5): all four at ¼; (−1,−1) → p = (−0.5, −0.5): cell (0,0) at ¼;
    // (1, −1) → x at 1.5, y at −0.5: cell (0,1) at ¼; (2, 0) → p_x = 2.5: nothing
    const c = tf.tensor2d([0, 0, -1, -1, 1, -1, 2, 0], [4, 2]);
    const s = sampleGridTf(g, c);
    expect(Array.from(await s.data())).toEqual([2.5, 0.25, 0.5, 0]);
    tf.dispose([g, c, s]);
  });
});

describe('continuousMemoryTf', () => {
  const shape = { channels: 3, height: 2, width: 2, localResolution: 4, globalResolution: 2 };
  const grids = initContinuousMemory({ ...shape, seed: 5 });

  it("draws each grid with xavier_normal_'s std (torch fan-in/out of a [1, D, r, r] tensor)", () => {
    const std = (x: Float32Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);
    const big = initContinuousMemory({ ...shape, channels: 64, seed: 1 });
    expect(std(big.local.data)).toBeCloseTo(Math.sqrt(2 / (65 * 16)), 2);
    expect(big.global.shape).toEqual([1, 64 * 4, 2, 2]);
  });

  it('puts the global read first, channel-major per image, and the local read per position, as the reference concatenates them', async () => {
    const rng = createRng(2);
    const localCoords = Float32Array.from({ length: 2 * 2 * 2 * 2 }, () => rng.uniform(-1, 1));
    const globalCoords = Float32Array.from({ length: 2 * 2 }, () => rng.uniform(-1, 1));
    const out = tf.tidy(() =>
      continuousMemoryTf({
        local: tf.tensor4d(grids.local.data, grids.local.shape as [number, number, number, number]),
        global: tf.tensor4d(grids.global.data, grids.global.shape as [number, number, number, number]),
        localCoords: tf.tensor4d(localCoords, [2, 2, 2, 2]),
        globalCoords: tf.tensor2d(globalCoords, [2, 2]),
      }),
    );
    const got = await out.data();
    out.dispose();
    const g = tf.tensor4d(grids.global.data, grids.global.shape as [number, number, number, number]);
    const whole = tf.tidy(() => sampleGridTf(g, tf.tensor2d(globalCoords, [2, 2])));
    const globalRows = await whole.data();
    tf.dispose([g, whole]);
    // image 1, position (y 1, x 0), channel 2 of the global part = its C·h·w vector at c·hw + y·w + x
    expect(got[((1 * 2 + 1) * 2 + 0) * 6 + 2]).toBeCloseTo(globalRows[1 * 12 + 2 * 4 + 1 * 2 + 0], 6);

    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const gb = new OnnxGraphBuilder('memory');
    const localNchw = gb.input('local', ['n', 2, 2, 2]);
    const memory = lowerContinuousMemory(gb, {
      local: grids.local,
      global: grids.global,
      localCoords: localNchw,
      globalCoords: gb.input('global', ['n', 2]),
      height: 2,
      width: 2,
      name: 'm',
    });
    gb.namedOutput(memory, 'memory', ['n', 6, 2, 2]);
    const runner = await createOrtRunner(engine, gb.toBytes(), 'memory');
    // NHWC → NCHW coordinates for the graph
    const nchw = new Float32Array(16);
    for (let b = 0; b < 2; b++)
      for (let p = 0; p < 4; p++)
        for (let k = 0; k < 2; k++) nchw[(b * 2 + k) * 4 + p] = localCoords[(b * 4 + p) * 2 + k];
    const res = await runner.run({
      local: { data: nchw, dims: [2, 2, 2, 2] },
      global: { data: globalCoords, dims: [2, 2] },
    });
    await runner.release();
    const onnx = res.memory.data as Float32Array;
    const asNhwc = new Float32Array(onnx.length);
    for (let b = 0; b < 2; b++)
      for (let c = 0; c < 6; c++) for (let p = 0; p < 4; p++) asNhwc[(b * 4 + p) * 6 + c] = onnx[(b * 6 + c) * 4 + p];
    expect(maxRelativeError(asNhwc, got)).toBeLessThan(1e-5);
  });

  it('names a coordinate tensor of the wrong shape', () => {
    const g = tf.zeros([1, 3, 4, 4]) as tf.Tensor4D;
    expect(() =>
      continuousMemoryTf({
        local: g,
        global: tf.zeros([1, 12, 2, 2]) as tf.Tensor4D,
        localCoords: tf.zeros([1, 2, 2, 3]) as tf.Tensor4D,
        globalCoords: tf.zeros([1, 2]) as tf.Tensor2D,
      }),
    ).toThrow(/localCoords must have shape \[1, 2, 2, 2\]/);
    tf.disposeVariables();
  });
});
