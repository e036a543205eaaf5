/**
 * PatchCore's locally aware patch features on both engines against a plain re-statement of the
 * reference's order of operations (unfold, upsample the unfolded deeper map, then pool per layer
 * and across layers): pooling before upsampling is exact. Tiny maps; the reference code's own
 * numbers are checked in @cfa/patchcore's official-parity spec.
 */
import * as tf from '@tensorflow/tfjs-core';
import { attr, createOrtRunner, createRng, OnnxGraphBuilder, selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import type { FeatureShape } from '@cfa/backbone';
import { beforeAll, describe, expect, it } from 'vitest';
import { adaptivePoolBins } from './adaptive-pool';
import { bilinearMatrix } from './bilinear';
import { localPatchFeatures } from './local-patch-features';
import { lowerLocalPatchFeatures } from './local-patch-features-onnx';

beforeAll(async () => {
  await selectEngine({ requested: 'tfjs', tfBackend: 'wasm' });
});

interface Map3 {
  h: number;
  w: number;
  c: number;
  data: Float32Array; // [h, w, c]
}

/** Unfold (zero padding) → [h·w, c·p²] in torch.nn.Unfold's order. */
function unfold(m: Map3, p: number): Float32Array {
  const r = (p - 1) / 2;
  const out = new Float32Array(m.h * m.w * m.c * p * p);
  for (let y = 0; y < m.h; y++)
    for (let x = 0; x < m.w; x++)
      for (let c = 0; c < m.c; c++)
        for (let ky = 0; ky < p; ky++)
          for (let kx = 0; kx < p; kx++) {
            const yy = y + ky - r,
              xx = x + kx - r;
            const v = yy < 0 || xx < 0 || yy >= m.h || xx >= m.w ? 0 : m.data[(yy * m.w + xx) * m.c + c];
            out[((y * m.w + x) * m.c + c) * p * p + ky * p + kx] = v;
          }
  return out;
}

/** rows [n, L] → [n, O] with PyTorch's adaptive bins (sum, then divide, as aten does). */
function pool(rows: Float32Array, n: number, L: number, O: number): Float32Array {
  const b = adaptivePoolBins(L, O);
  const out = new Float32Array(n * O);
  for (let r = 0; r < n; r++)
    for (let i = 0; i < O; i++) {
      let s = 0;
      for (let j = b.starts[i]; j < b.starts[i] + b.counts[i]; j++) s += rows[r * L + j];
      out[r * O + i] = s / b.counts[i];
    }
  return out;
}

/** The reference's order: unfold each map, upsample the unfolded features to the first grid, pool, stack, pool. */
function referenceOrder(maps: Map3[], p: number, preDim: number, targetDim: number): Float32Array {
  const { h: H, w: W } = maps[0];
  const layers = maps.map((m) => {
    const u = unfold(m, p);
    const L = m.c * p * p;
    let up = u;
    if (m.h !== H || m.w !== W) {
      const ry = bilinearMatrix(m.h, H),
        rx = bilinearMatrix(m.w, W);
      up = new Float32Array(H * W * L);
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          for (let sy = 0; sy < m.h; sy++)
            for (let sx = 0; sx < m.w; sx++) {
              const wgt = ry[y * m.h + sy] * rx[x * m.w + sx];
              if (wgt === 0) continue;
              for (let j = 0; j < L; j++) up[(y * W + x) * L + j] += wgt * u[(sy * m.w + sx) * L + j];
            }
    }
    return pool(up, H * W, L, preDim);
  });
  const stacked = new Float32Array(H * W * layers.length * preDim);
  for (let q = 0; q < H * W; q++)
    layers.forEach((l, i) => stacked.set(l.subarray(q * preDim, (q + 1) * preDim), (q * layers.length + i) * preDim));
  return pool(stacked, H * W, layers.length * preDim, targetDim);
}

function randomMap(seed: number, h: number, w: number, c: number): Map3 {
  const rng = createRng(seed);
  return { h, w, c, data: Float32Array.from({ length: h * w * c }, () => rng.normal()) };
}

const CASES = [
  { name: 'p=3, pre 24 (L=36: overlapping bins), target 20 (from 48)', p: 3, preDim: 24, targetDim: 20 },
  { name: 'p=3, pre 8 (L=36 ≥ 4·8), target 16 (= 2·8: pairs)', p: 3, preDim: 8, targetDim: 16 },
  { name: 'p=1, pre 6, target 7', p: 1, preDim: 6, targetDim: 7 },
];

describe.each(CASES)('localPatchFeatures $name: maps [1,6,6,4] + [1,3,3,4]', ({ p, preDim, targetDim }) => {
  const maps = [randomMap(1, 6, 6, 4), randomMap(2, 3, 3, 4)];
  const expected = referenceOrder(maps, p, preDim, targetDim);

  it('TensorFlow.js matches the reference order within 1e-5 and frees its intermediates', () => {
    const before = tf.memory().numTensors;
    const inputs = maps.map((m) => tf.tensor4d(m.data, [1, m.h, m.w, m.c]));
    const out = localPatchFeatures({ maps: inputs, patchSize: p, preDim, targetDim });
    expect(out.shape).toEqual([1, 6, 6, targetDim]);
    expect(maxRelativeError(out.dataSync(), expected)).toBeLessThan(1e-5);
    tf.dispose([...inputs, out]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the ONNX lowering matches the reference order within 1e-5', async () => {
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const g = new OnnxGraphBuilder('local-patch-features');
    const shapes: FeatureShape[] = maps.map((m, i) => ({
      name: `m${i}`,
      height: m.h,
      width: m.w,
      channels: m.c,
      stride: 1,
    }));
    const nchw = maps.map(
      (m, i) => g.node('Transpose', [g.input(`m${i}`, [1, m.h, m.w, m.c])], { perm: attr.ints([0, 3, 1, 2]) })[0],
    );
    const features = lowerLocalPatchFeatures(g, nchw, shapes, { patchSize: p, preDim, targetDim });
    g.node('Transpose', [features], { perm: attr.ints([0, 2, 3, 1]) }, ['y']);
    g.output('y', [1, 6, 6, targetDim]);
    const runner = await createOrtRunner(engine, g.toBytes(), 'local patch features');
    const out = await runner.run(
      Object.fromEntries(maps.map((m, i) => [`m${i}`, { data: m.data, dims: [1, m.h, m.w, m.c] }])),
    );
    await runner.release();
    expect(maxRelativeError(out.y.data as Float32Array, expected)).toBeLessThan(1e-5);
  });
});

describe('localPatchFeatures: bad input', () => {
  it('refuses an even patch size and maps of different batch sizes, naming them', () => {
    const a = tf.zeros([2, 4, 4, 1]) as tf.Tensor4D;
    const b = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
    expect(() => localPatchFeatures({ maps: [a], patchSize: 2, preDim: 4, targetDim: 4 })).toThrow(
      /patchSize must be an odd positive integer.*got 2/,
    );
    expect(() => localPatchFeatures({ maps: [a, b], patchSize: 3, preDim: 4, targetDim: 4 })).toThrow(
      /Error in localPatchFeatures: maps\[1\] must have shape \[N, \*, \*, \*\], got \[1, 2, 2, 1\]/,
    );
    tf.dispose([a, b]);
  });
});
