/**
 * FYD's rows of `bench` (docs/methods/fyd.md), per engine, on the bench images: one training step
 * of each stage (the image-level step, batch 8 at the default loss size; the feature-level + fine
 * step, batch 4 on the backbone's maps with the default transformers and adaptor), the whole fit
 * with short schedules, and inference throughput from the images. The two step rows have a
 * PyTorch counterpart in `--reference`: the same maths as tools/torch-reference/fyd_reference.py
 * states it (FYD has no authors' code to time).
 */
import { type BackboneModel, createBackboneRunner } from '@cfa/backbone';
import {
  areaPool,
  createAlignmentHeadParams,
  createAlignmentHeadRunner,
  createSpatialTransformerParams,
  pyramidChannels,
} from '@cfa/descriptor';
import { memoryEmbeddingSet } from '@cfa/method-kit';
import type { EngineSelection } from '@cfa/tensor-runtime';
import { fineAlignmentStep, fitFyd, FydConfigSchema, imageAlignmentStep, poseBounds, predictFyd } from '@cfa/fyd';
import { type BenchRow, median } from './timing';

export interface FydRowsOptions {
  engine: EngineSelection;
  /** FYD's backbone (torchvision taps). */
  backbone: BackboneModel;
  /** `count` images [count, size, size, 3], normalised. */
  images: Float32Array;
  count: number;
  size: number;
  log: (line: string) => void;
}

/** The schedules of the fit row: short, so that the row measures the machinery, not convergence. */
export const FYD_BENCH_EPOCHS = { image: 10, fine: 2 } as const;

export async function fydRows({ engine, backbone, images, count, size, log }: FydRowsOptions): Promise<BenchRow[]> {
  const config = FydConfigSchema.parse({
    backbone: { name: backbone.definition.name },
    imageAlignment: { epochs: FYD_BENCH_EPOCHS.image },
    training: { epochs: FYD_BENCH_EPOCHS.fine },
  });
  const name = `${backbone.definition.name} ${engine.name}`;
  const px = size * size * 3;
  const rows: BenchRow[] = [];
  const repeat = engine.name === 'tfjs' ? 1 : 3;

  // image-level step: batch 8 (or all), the default pool and loss size
  const b = Math.min(8, count);
  const shape = [b, size, size, 3] as const;
  const batchImages = images.subarray(0, b * px);
  const batch = {
    count: b,
    pooled: areaPool({ x: batchImages, shape, size: config.transformer.imagePool }),
    small: areaPool({ x: batchImages, shape, size: config.imageAlignment.lossSize }),
    size: config.imageAlignment.lossSize,
  };
  const imageStn = createSpatialTransformerParams({
    inChannels: 3,
    pool: config.transformer.imagePool,
    hidden: config.transformer.hidden,
    seed: 0,
  });
  const bounds = poseBounds(config, 'image');
  rows.push({
    key: 'fyd_image_step_ms',
    label: `FYD image-level step (batch ${b})`,
    unit: 'ms/img',
    value: (await median(async () => imageAlignmentStep({ batch, params: imageStn, bounds }))) / b,
  });

  // feature-level + fine step: batch 4 on the backbone's maps
  const runner = await createBackboneRunner({ engine, model: backbone, inputSize: size });
  const maps = (await runner.forward(images.subarray(0, 4 * px), 4)).map((m) => m.data);
  const levels = (await runner.forward(images.subarray(0, px), 1)).map((m) => ({
    height: m.dims[1],
    width: m.dims[2],
    channels: m.dims[3],
  }));
  await runner.release();
  const stns = levels.map((l, k) =>
    createSpatialTransformerParams({
      inChannels: l.channels,
      pool: config.transformer.featurePool,
      hidden: config.transformer.hidden,
      seed: k,
    }),
  );
  const head = await createAlignmentHeadRunner({
    engine,
    params: createAlignmentHeadParams({
      inChannels: pyramidChannels(levels),
      dim: config.adaptor.dim,
      predictorHidden: config.adaptor.predictorHidden,
      seed: 0,
    }),
  });
  const step = () =>
    fineAlignmentStep({
      maps,
      count: 4,
      levels,
      stns,
      bounds: poseBounds(config, 'feature'),
      head,
      trainFeature: true,
      trainAdaptor: true,
    });
  rows.push({
    key: 'fyd_fine_step_ms',
    label: 'FYD feature + fine step (batch 4)',
    unit: 'ms/img',
    value: (await median(step, repeat)) / 4,
  });
  await head.release();
  log(`${name}: FYD steps done`);

  const ids = Array.from({ length: count }, (_, i) => `bench/${i}`);
  const set = memoryEmbeddingSet(
    ids,
    ids.map((_, i) => images.slice(i * px, (i + 1) * px)),
    [{ height: size, width: size, channels: 3 }],
  );
  const t0 = performance.now();
  const model = await fitFyd({ config, engine, backbone, train: set });
  rows.push({
    key: 'fyd_fit_s',
    label: `FYD fit (${count} images, ${FYD_BENCH_EPOCHS.image} + ${FYD_BENCH_EPOCHS.fine} epochs)`,
    unit: 's',
    value: (performance.now() - t0) / 1000,
  });
  const predictSeconds = (await median(() => predictFyd({ model, test: set, inputSize: size }), 1)) / 1000;
  rows.push({ key: 'fyd_throughput', label: 'FYD inference throughput', unit: 'img/s', value: count / predictSeconds });
  log(`${name}: FYD fit ${rows[2].value.toFixed(1)} s, ${rows[3].value.toFixed(2)} img/s`);
  return rows;
}
