/**
 * The bench row of a fitted model exported as one ONNX graph (`buildOnnxModel`; ONNX Runtime only):
 * fed what a deployment feeds it — the viewed images in [0, 1] (the bench's are normalised: undone
 * here, outside the timing) — in batches of 4, after a warm-up. Apart from bench-rows.ts because it
 * runs the exported bytes itself (tensor-runtime) and un-normalises (data).
 */
import { createOrtRunner, type EngineSelection } from '@cfa/tensor-runtime';
import { IMAGENET_MEAN, IMAGENET_STD } from '@cfa/data';
import type { BackboneModel } from '@cfa/backbone';
import type { EmbeddingLevel } from '@cfa/descriptor';
import { cfaMethod, type FittedCfa } from '@cfa/cfa';
import { buildOnnxModel } from '@cfa/method-kit';
import type { BenchRow } from './timing';

export interface ExportRowOptions {
  engine: EngineSelection;
  backbone: BackboneModel;
  fitted: FittedCfa;
  levels: EmbeddingLevel[];
  /** [count, size, size, 3], ImageNet-normalised. */
  images: Float32Array;
  count: number;
  size: number;
}

export async function exportedModelRow(options: ExportRowOptions): Promise<BenchRow> {
  const { engine, backbone, fitted, levels, images, count, size } = options;
  const onnx = buildOnnxModel({
    method: cfaMethod,
    config: fitted.config,
    backbone,
    members: [{ role: 'primary', view: fitted.config.view, levels, fitted }],
  });
  const rgb = Float32Array.from(
    images.subarray(0, count * size * size * 3),
    (v, i) => v * IMAGENET_STD[i % 3] + IMAGENET_MEAN[i % 3],
  );
  const runner = await createOrtRunner(engine, onnx.bytes, 'exported model');
  const px = size * size * 3;
  const feed = (i: number) => ({ image: { data: rgb.subarray(i * px, (i + 4) * px), dims: [4, size, size, 3] } });
  await runner.run(feed(0));
  const t = performance.now();
  for (let i = 0; i + 4 <= count; i += 4) await runner.run(feed(i));
  const value = (count - (count % 4)) / ((performance.now() - t) / 1000);
  await runner.release();
  return {
    key: 'exported_onnx_throughput',
    label: 'exported ONNX model (image → map + score), γ=1',
    unit: 'img/s',
    value,
  };
}
