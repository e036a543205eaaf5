/**
 * CRAD's maps and image scores against the CRAD reference code's evaluator (`utils/eval_helper.py`
 * `EvalDataMeta`: 21 × 21 zero-padded average pooling of every map; `EvalImageMax`: the maximum of
 * 32 × 32 window means; fixture from tools/torch-reference/crad_fixtures.py), in typed arrays and
 * as ONNX graph pieces; and the upsampling's aligned corners by hand.
 */
import { readFileSync } from 'node:fs';
import { decodeSafetensors } from '@cfa/backbone';
import { createOrtRunner, OnnxGraphBuilder, selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { describe, expect, it } from 'vitest';
import {
  lowerPooledMaxScores,
  lowerReconstructionMaps,
  pooledMaxScores,
  reconstructionMapMatrix,
  reconstructionMaps,
} from './reconstruction-map';

const path = new URL('./__fixtures__/crad-eval.official.safetensors', import.meta.url);
const { tensors } = decodeSafetensors(readFileSync(path), path.pathname);
const preds = tensors.get('preds')!.data; // [3, 64, 64]

describe('against the CRAD evaluator', () => {
  it('the 21 × 21 smoothing (no upsampling: 64 → 64) and the 32 × 32 window-mean image score', () => {
    const smoothed = reconstructionMaps({
      distances: preds,
      count: 3,
      height: 64,
      width: 64,
      outputSize: 64,
      smoothing: 21,
    });
    expect(maxRelativeError(smoothed, tensors.get('smoothed')!.data)).toBeLessThan(1e-5);
    const scores = pooledMaxScores({ maps: smoothed, count: 3, size: 64, pool: 32 });
    expect(maxRelativeError(scores, tensors.get('imageScores')!.data)).toBeLessThan(1e-5);
  });

  it('the same on ONNX Runtime', async () => {
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const g = new OnnxGraphBuilder('maps');
    const maps = lowerReconstructionMaps(g, g.input('d', ['n', 64, 64]), {
      height: 64,
      width: 64,
      outputSize: 64,
      smoothing: 21,
    });
    g.namedOutput(maps, 'maps', ['n', 64, 64]);
    g.namedOutput(lowerPooledMaxScores(g, maps, { size: 64, pool: 32 }), 'scores', ['n']);
    const runner = await createOrtRunner(engine, g.toBytes(), 'maps');
    const out = await runner.run({ d: { data: preds, dims: [3, 64, 64] } });
    await runner.release();
    expect(maxRelativeError(out.maps.data as Float32Array, tensors.get('smoothed')!.data)).toBeLessThan(1e-5);
    expect(maxRelativeError(out.scores.data as Float32Array, tensors.get('imageScores')!.data)).toBeLessThan(1e-5);
  });
});

describe('reconstructionMapMatrix', () => {
  it('upsamples 3 → 5 with aligned corners (source i·2/4): rows 1, ½ ½, 1, ½ ½, 1', () => {
    expect(Array.from(reconstructionMapMatrix(3, 5, 1))).toEqual([1, 0, 0, 0.5, 0.5, 0, 0, 1, 0, 0, 0.5, 0.5, 0, 0, 1]);
  });

  it('a box of 3 on a constant map keeps it inside and loses a third at each edge (zero padding, counted)', () => {
    const m = reconstructionMaps({
      distances: new Float32Array(4).fill(1),
      count: 1,
      height: 2,
      width: 2,
      outputSize: 4,
      smoothing: 3,
    });
    expect(m[5]).toBeCloseTo(1, 6);
    expect(m[0]).toBeCloseTo(4 / 9, 6);
  });

  it('refuses an even box and names a map array of the wrong size', () => {
    expect(() => reconstructionMapMatrix(3, 5, 4)).toThrow(/odd/);
    expect(() => pooledMaxScores({ maps: new Float32Array(10), count: 1, size: 4, pool: 2 })).toThrow(/\[1, 4, 4\]/);
  });

  it('pools over the whole map when it is smaller than the window', () => {
    expect(Array.from(pooledMaxScores({ maps: Float32Array.from([1, 2, 3, 4]), count: 1, size: 2, pool: 32 }))).toEqual(
      [2.5],
    );
  });
});
