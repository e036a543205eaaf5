import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { selectEngine } from './engine';
import { OnnxGraphBuilder, attr } from './onnx-graph';
import { createOrtRunner } from './ort-session';

describe('OnnxGraphBuilder + ONNX Runtime', () => {
  it('x=[2,3] · w=[3,2] + TopK(k=1, smallest) runs and gives the hand-computed values', async () => {
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const g = new OnnxGraphBuilder('mm');
    const x = g.input('x', ['n', 3]);
    const w = g.initializer('w', new Float32Array([1, 0, 0, 1, 1, 1]), [3, 2]);
    const [y] = g.node('MatMul', [x, w], {}, ['y']);
    g.node('TopK', [y, g.ints('k', [1])], { axis: attr.int(-1), largest: attr.int(0) }, ['v', 'i']);
    g.output('y', ['n', 2]);
    g.output('v', ['n', 1]);
    g.output('i', ['n', 1], 'int64');
    const runner = await createOrtRunner(engine, g.toBytes(), 'mm');
    const out = await runner.run({ x: { data: new Float32Array([1, 2, 3, 4, 5, 6]), dims: [2, 3] } });
    expect(Array.from(out.y.data as Float32Array)).toEqual([4, 5, 10, 11]);
    expect(Array.from(out.v.data as Float32Array)).toEqual([4, 10]);
    expect(Array.from(out.i.data as BigInt64Array)).toEqual([0n, 0n]);
    await runner.release();
  });

  it('namedOutput exposes a fresh value under a fixed name, int64 included', async () => {
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const g = new OnnxGraphBuilder('named');
    const x = g.input('x', ['n', 3]);
    const [values, indices] = g.node('TopK', [x, g.ints('k', [2])], { axis: attr.int(-1), largest: attr.int(1) }, 2);
    expect(g.namedOutput(values, 'top', ['n', 2])).toBe('top');
    g.namedOutput(indices, 'where', ['n', 2], 'int64');
    const runner = await createOrtRunner(engine, g.toBytes(), 'named');
    const out = await runner.run({ x: { data: new Float32Array([1, 3, 2]), dims: [1, 3] } });
    await runner.release();
    expect(Object.keys(out).sort()).toEqual(['top', 'where']);
    expect(Array.from(out.top.data as Float32Array)).toEqual([3, 2]);
    expect(Array.from(out.where.data as BigInt64Array)).toEqual([1n, 2n]);
    expect(() => g.namedOutput(values, 'top', ['n', 2])).toThrow(/'top' defined twice/);
  });

  it('refuses an initializer whose length does not match its dims, naming it', () => {
    const g = new OnnxGraphBuilder('bad');
    expect(() => g.initializer('w', new Float32Array(5), [2, 3])).toThrow(
      /initializer 'w' has 5 values, dims \[2,3\] need 6/,
    );
  });

  it('refuses a value defined twice', () => {
    const g = new OnnxGraphBuilder('dup');
    g.input('x', [1]);
    expect(() => g.input('x', [1])).toThrow(/'x' defined twice/);
  });

  it('writes the model doc string, metadata_props and input doc strings into the file', () => {
    const g = new OnnxGraphBuilder('meta');
    const x = g.input('x', ['n', 2], 'float', 'RGB in [0, 1]');
    g.node('Identity', [x], {}, ['y']);
    g.output('y', ['n', 2]);
    const model = onnxProto.onnx.ModelProto.decode(
      g.toBytes({ docString: 'a test model', metadata: { 'cfa.format': '1', 'cfa.view': 'center-crop:256:224' } }),
    );
    expect(model.docString).toBe('a test model');
    expect(model.metadataProps.map((p) => [p.key, p.value])).toEqual([
      ['cfa.format', '1'],
      ['cfa.view', 'center-crop:256:224'],
    ]);
    expect(model.graph?.input?.[0].docString).toBe('RGB in [0, 1]');
  });
});
