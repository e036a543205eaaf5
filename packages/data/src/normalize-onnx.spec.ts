import { attr, createOrtRunner, OnnxGraphBuilder, selectEngine } from '@cfa/tensor-runtime';
import { describe, expect, it } from 'vitest';
import { lowerImageNetNormalization } from './normalize-onnx';
import { applyView, normalizeImageNet, viewRasters } from './preprocess';
import { inferenceView, ViewSchema } from './view';

describe('ImageNet normalisation', () => {
  it('the ONNX lowering equals normalizeImageNet on an NHWC image fed through NCHW (1e-6)', async () => {
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const g = new OnnxGraphBuilder('normalise');
    const x = g.input('x', ['n', 4, 5, 3]);
    const nchw = g.node('Transpose', [x], { perm: attr.ints([0, 3, 1, 2]) })[0];
    const y = lowerImageNetNormalization(g, nchw);
    g.node('Transpose', [y], { perm: attr.ints([0, 2, 3, 1]) }, ['y']);
    g.output('y', ['n', 4, 5, 3]);
    const rgb = Float32Array.from({ length: 2 * 4 * 5 * 3 }, (_, i) => ((i * 37) % 101) / 100);
    const runner = await createOrtRunner(engine, g.toBytes(), 'normalise');
    const out = (await runner.run({ x: { data: rgb, dims: [2, 4, 5, 3] } })).y.data as Float32Array;
    await runner.release();
    const expected = normalizeImageNet(rgb);
    out.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(1e-6));
  });

  it('applyView is viewRasters followed by normalizeImageNet; a missing mask stays missing', () => {
    const image = {
      data: Float32Array.from({ length: 20 * 16 * 3 }, (_, i) => (i % 7) / 7),
      width: 16,
      height: 20,
      channels: 3,
    };
    const mask = { data: new Uint8Array(20 * 16).fill(1), width: 16, height: 20, channels: 1 };
    const view = ViewSchema.parse({ kind: 'center-crop', resize: 12, crop: 8 });
    const viewed = applyView({ image, mask, view, sampleId: 'a' });
    const geometry = viewRasters({ image, view, sampleId: 'a' });
    expect(geometry.mask).toBeUndefined();
    expect(geometry.size).toBe(8);
    expect(Array.from(normalizeImageNet(geometry.image.data))).toEqual(Array.from(viewed.image));
  });

  it('inferenceView keeps deterministic views and turns rd-mvtec into the centre crop of the same sizes', () => {
    const centre = ViewSchema.parse({ kind: 'center-crop' });
    expect(inferenceView(centre)).toBe(centre);
    expect(inferenceView(ViewSchema.parse({ kind: 'rd-mvtec', resize: 300, crop: 250, seed: 3 }))).toEqual({
      kind: 'center-crop',
      resize: 300,
      crop: 250,
      filter: 'lanczos',
    });
  });
});
