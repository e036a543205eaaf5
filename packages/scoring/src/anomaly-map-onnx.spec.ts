import { createOrtRunner, createRng, OnnxGraphBuilder, selectEngine } from '@cfa/tensor-runtime';
import { describe, expect, it } from 'vitest';
import { anomalyMaps, imageScores, patchAnomalyScores } from './anomaly-map';
import { lowerAnomalyMaps, lowerImageScores, lowerPatchAnomalyScores } from './anomaly-map-onnx';

/** Squared distances [P, k], ascending per row, some tiny negatives as the expanded form gives them. */
function distances(p: number, k: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(p * k);
  for (let t = 0; t < p; t++) {
    // every 7th row starts just below 0, as ‖f‖² + ‖c‖² − 2 f·c can for a patch on a centre
    let d = t % 7 === 0 ? -1e-7 : rng.uniform(0, 2);
    for (let j = 0; j < k; j++) {
      out[t * k + j] = d;
      d += rng.uniform(0, 1.5);
    }
  }
  return out;
}

async function run(build: (g: OnnxGraphBuilder, x: string) => [string, number[]][], x: Float32Array, dims: number[]) {
  const engine = await selectEngine({ requested: 'ort', threads: 1 });
  const g = new OnnxGraphBuilder('scoring');
  const input = g.input('x', dims);
  const outs = build(g, input);
  outs.forEach(([o, shape], i) => {
    g.node('Identity', [o], {}, [`y${i}`]);
    g.output(`y${i}`, shape);
  });
  const runner = await createOrtRunner(engine, g.toBytes(), 'scoring');
  const result = await runner.run({ x: { data: x, dims } });
  await runner.release();
  return outs.map((_, i) => result[`y${i}`].data as Float32Array);
}

const close = (a: Float32Array, b: Float32Array, tol: number) => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  a.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b[i]) / Math.max(1, Math.abs(b[i])))));
  expect(worst).toBeLessThan(tol);
};

describe('anomaly map as ONNX', () => {
  it.each([
    ['euclidean', 3, 3],
    ['squared', 5, 3],
    ['euclidean', 4, 1],
  ] as const)('patch scores, %s, k=%i K=%i: equal to patchAnomalyScores (1e-6)', async (metric, k, K) => {
    const d = distances(50, k, k);
    const [onnx] = await run((g, x) => [[lowerPatchAnomalyScores(g, x, { k, K, metric }), [50]]], d, [50, k]);
    close(onnx, patchAnomalyScores({ distances: d, count: 50, k, K, metric }), 1e-6);
  });

  it('maps [2, 7×5 → 24] σ=1.5 and their maxima: equal to anomalyMaps and imageScores (1e-6)', async () => {
    const rng = createRng(3);
    const scores = Float32Array.from({ length: 2 * 7 * 5 }, () => rng.uniform(0, 3));
    const [maps, maxima] = await run(
      (g, x) => {
        const m = lowerAnomalyMaps(g, x, { height: 7, width: 5, outputSize: 24, sigma: 1.5 });
        return [
          [m, [2, 24, 24]],
          [lowerImageScores(g, m), [2]],
        ];
      },
      scores,
      [70],
    );
    const expected = anomalyMaps({ scores, count: 2, height: 7, width: 5, outputSize: 24, sigma: 1.5 });
    close(maps, expected, 1e-6);
    close(maxima, imageScores({ maps: expected, count: 2, size: 24 }), 1e-6);
  });

  it('refuses K outside [1, k]', () => {
    expect(() => lowerPatchAnomalyScores(new OnnxGraphBuilder('x'), 'd', { k: 2, K: 3, metric: 'squared' })).toThrow(
      /K must be in \[1, 2\], got 3/,
    );
  });
});
