import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { affineGrid, affineGridGradient, affineGridTf, lowerAffineGrid } from './affine-grid';
import { selectEngine } from './engine';
import { gridSample, gridSampleGradient, gridSampleTf, lowerGridSample } from './grid-sample';
import { OnnxGraphBuilder, attr } from './onnx-graph';
import { createOrtRunner } from './ort-session';
import { maxRelativeError } from './testing';

/** tools/torch-reference/grid_sample_reference.py: F.grid_sample / F.affine_grid and their autograd. */
interface GridCase {
  name: string;
  inputShape: [number, number, number, number];
  gridShape: [number, number, number];
  padding: 'zeros' | 'border';
  alignCorners: boolean;
  input: number[];
  grid: number[];
  gradOutput: number[];
  output: number[];
  gradInput: number[];
  gradGrid: number[];
}
interface AffineCase {
  name: string;
  count: number;
  height: number;
  width: number;
  alignCorners: boolean;
  theta: number[];
  gradGrid: number[];
  grid: number[];
  gradTheta: number[];
}
const fixture = JSON.parse(readFileSync(new URL('./__fixtures__/grid-sample.torch.json', import.meta.url), 'utf8')) as {
  gridSample: GridCase[];
  affineGrid: AffineCase[];
};
const f32 = (a: number[]) => Float32Array.from(a);
const params = (c: GridCase) => ({
  input: f32(c.input),
  inputShape: c.inputShape,
  grid: f32(c.grid),
  gridShape: c.gridShape,
  padding: c.padding,
  alignCorners: c.alignCorners,
});

describe('gridSample (typed arrays) against PyTorch F.grid_sample', () => {
  for (const c of fixture.gridSample) {
    it(`${c.name}: values and both gradients within 1e-5`, () => {
      expect(maxRelativeError(gridSample(params(c)), c.output)).toBeLessThan(1e-5);
      const { gradGrid, gradInput } = gridSampleGradient({
        ...params(c),
        gradOutput: f32(c.gradOutput),
        wantInput: true,
      });
      expect(maxRelativeError(gradGrid, c.gradGrid)).toBeLessThan(1e-5);
      expect(maxRelativeError(gradInput!, c.gradInput)).toBeLessThan(1e-5);
    });
  }

  it('leaves out the input gradient unless asked', () => {
    const c = fixture.gridSample[0];
    expect(gridSampleGradient({ ...params(c), gradOutput: f32(c.gradOutput) }).gradInput).toBeUndefined();
  });

  it('refuses a grid of another batch or the wrong length, naming it', () => {
    const c = fixture.gridSample[0];
    expect(() => gridSample({ ...params(c), gridShape: [3, 4, 7] })).toThrow(/gridSample: grid has 3 images, input 2/);
    expect(() => gridSample({ ...params(c), grid: new Float32Array(5) })).toThrow(/grid holds 5 values/);
    expect(() => gridSampleGradient({ ...params(c), gradOutput: new Float32Array(3) })).toThrow(
      /gradOutput holds 3 values/,
    );
  });
});

describe('gridSampleTf and lowerGridSample against PyTorch', () => {
  for (const c of fixture.gridSample) {
    it(`${c.name}: TensorFlow.js within 1e-5, no tensors left behind`, async () => {
      await selectEngine({ requested: 'tfjs' });
      const before = tf.memory().numTensors;
      const input = tf.tensor4d(f32(c.input), c.inputShape);
      const grid = tf.tensor4d(f32(c.grid), [...c.gridShape, 2]);
      const out = gridSampleTf(input, grid, c);
      expect(out.shape).toEqual([...c.gridShape, c.inputShape[3]]);
      expect(maxRelativeError(await out.data(), c.output)).toBeLessThan(1e-5);
      tf.dispose([input, grid, out]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it(`${c.name}: ONNX Runtime (GridSample, opset 16) within 1e-5`, async () => {
      const engine = await selectEngine({ requested: 'ort', threads: 1 });
      const [n, h, w, ch] = c.inputShape;
      const [, ho, wo] = c.gridShape;
      const g = new OnnxGraphBuilder('grid-sample');
      const x = g.node('Transpose', [g.input('x', [n, h, w, ch])], { perm: attr.ints([0, 3, 1, 2]) })[0];
      const y = lowerGridSample(g, x, g.input('grid', [n, ho, wo, 2]), c);
      g.node('Transpose', [y], { perm: attr.ints([0, 2, 3, 1]) }, ['y']);
      g.output('y', [n, ho, wo, ch]);
      expect(g.opset).toBe(16);
      const runner = await createOrtRunner(engine, g.toBytes(), 'grid-sample');
      const out = await runner.run({
        x: { data: f32(c.input), dims: [n, h, w, ch] },
        grid: { data: f32(c.grid), dims: [n, ho, wo, 2] },
      });
      await runner.release();
      expect(maxRelativeError(out.y.data as Float32Array, c.output)).toBeLessThan(1e-5);
    });
  }

  it('a graph with GridSample declares opset 16 and IR 8; one without keeps 13 and IR 7', () => {
    const decode = (bytes: Uint8Array) => onnxProto.onnx.ModelProto.decode(bytes);
    const plain = new OnnxGraphBuilder('plain');
    plain.node('Identity', [plain.input('x', [1])], {}, ['y']);
    plain.output('y', [1]);
    const plainModel = decode(plain.toBytes());
    expect(Number(plainModel.opsetImport[0].version)).toBe(13);
    expect(Number(plainModel.irVersion)).toBe(7);
    const sampled = new OnnxGraphBuilder('sampled');
    lowerGridSample(sampled, sampled.input('x', [1, 1, 2, 2]), sampled.input('grid', [1, 1, 1, 2]));
    const model = decode(sampled.toBytes());
    expect(Number(model.opsetImport[0].version)).toBe(16);
    expect(Number(model.irVersion)).toBe(8);
  });
});

describe('affineGrid against PyTorch F.affine_grid', () => {
  for (const c of fixture.affineGrid) {
    it(`${c.name}: typed arrays, TensorFlow.js and ONNX Runtime grids, and ∂θ`, async () => {
      const p = { theta: f32(c.theta), count: c.count, height: c.height, width: c.width, alignCorners: c.alignCorners };
      expect(maxRelativeError(affineGrid(p), c.grid)).toBeLessThan(1e-6);
      const dTheta = affineGridGradient({ ...p, gradGrid: f32(c.gradGrid) });
      expect(maxRelativeError(dTheta, c.gradTheta)).toBeLessThan(1e-5);

      await selectEngine({ requested: 'tfjs' });
      const before = tf.memory().numTensors;
      const theta = tf.tensor3d(p.theta, [c.count, 2, 3]);
      const grid = affineGridTf(theta, c.height, c.width, c.alignCorners);
      expect(maxRelativeError(await grid.data(), c.grid)).toBeLessThan(1e-6);
      tf.dispose([theta, grid]);
      expect(tf.memory().numTensors).toBe(before);

      const engine = await selectEngine({ requested: 'ort', threads: 1 });
      const g = new OnnxGraphBuilder('affine-grid');
      const out = lowerAffineGrid(g, g.input('theta', [c.count, 2, 3]), { ...c, name: 'stn' });
      g.namedOutput(out, 'grid', [c.count, c.height, c.width, 2]);
      const runner = await createOrtRunner(engine, g.toBytes(), 'affine-grid');
      const res = await runner.run({ theta: { data: p.theta, dims: [c.count, 2, 3] } });
      await runner.release();
      expect(maxRelativeError(res.grid.data as Float32Array, c.grid)).toBeLessThan(1e-6);
    });
  }
});
