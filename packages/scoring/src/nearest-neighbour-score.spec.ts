import { createOrtRunner, OnnxGraphBuilder, selectEngine } from '@cfa/tensor-runtime';
import { describe, expect, it } from 'vitest';
import { lowerNearestNeighbourScores } from './anomaly-map-onnx';
import { nearestNeighbourScores } from './nearest-neighbour-score';

// squared distances [3, 2]; the first row dips below 0 as the expanded form can for a patch on a bank entry
const distances = Float32Array.from([-1e-6, 2, 4, 6, 9, 1]);

async function lowered(k: number, d: Float32Array, rows: number) {
  const engine = await selectEngine({ requested: 'ort', threads: 1 });
  const g = new OnnxGraphBuilder('nn-scores');
  g.namedOutput(lowerNearestNeighbourScores(g, g.input('d', [rows, k]), k), 'y', [rows]);
  const runner = await createOrtRunner(engine, g.toBytes(), 'nn scores');
  const out = await runner.run({ d: { data: d, dims: [rows, k] } });
  await runner.release();
  return Array.from(out.y.data as Float32Array);
}

describe('nearestNeighbourScores (PatchCore: mean of the k nearest squared distances, clamped at 0)', () => {
  it('k=2: [[−1e-6, 2], [4, 6], [9, 1]] → [1, 5, 5]; the ONNX piece agrees', async () => {
    expect(Array.from(nearestNeighbourScores({ distances, count: 3, k: 2 }))).toEqual([1, 5, 5]);
    expect(await lowered(2, distances, 3)).toEqual([1, 5, 5]);
  });

  it('k=1: the nearest squared distance itself (never negative); the ONNX piece agrees', async () => {
    const d = Float32Array.from([-1e-6, 4, 9]);
    expect(Array.from(nearestNeighbourScores({ distances: d, count: 3, k: 1 }))).toEqual([0, 4, 9]);
    expect(await lowered(1, d, 3)).toEqual([0, 4, 9]);
  });

  it('refuses a row count that does not match, naming the shape', () => {
    expect(() => nearestNeighbourScores({ distances, count: 2, k: 2 })).toThrow(/must hold \[2, 2\] values, got 6/);
  });
});
