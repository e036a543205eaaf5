/**
 * PaDiM's bench rows, through the functions a run calls (`padimMethod`'s extractor, `fitPadim`,
 * `predictPadim`) with the default `PadimConfig` (d = 100 of ResNet-18's 448 channels):
 *
 * - the fit on `count` images from the images (backbone + raw maps, then `fitPadim`) and from cached
 *   features (`fitPadim` alone: a sweep cell's bank seconds), and within it the per-position
 *   Cholesky inverses alone (`PositionGaussianAccumulator.finish`) — the budget the method holds:
 *   the inverses must not dominate a cell;
 * - inference throughput from the images and from cached features (`predictPadim`: embedding,
 *   Mahalanobis maps on the engine, upsampling + blur), each one timed pass after a warm-up pass.
 *
 * The PaDiM reference code's same rows come from `bench_reference.py` (its `main()` timed by spies).
 */
import type { EngineSelection } from '@cfa/tensor-runtime';
import type { BackboneModel } from '@cfa/backbone';
import { nearestEmbedding } from '@cfa/descriptor';
import { PositionGaussianAccumulator } from '@cfa/memory-bank';
import { memoryEmbeddingSet } from '@cfa/method-kit';
import { embeddingDimensions, fitPadim, type PadimConfig, padimMethod, predictPadim } from '@cfa/padim';
import { type BenchRow, inferenceThroughputRows } from './timing';

export interface PadimRowOptions {
  engine: EngineSelection;
  backbone: BackboneModel;
  config: PadimConfig;
  /** [count, size, size, 3], normalised. */
  images: Float32Array;
  count: number;
  size: number;
  log: (line: string) => void;
}

const BATCH = 4;

export async function padimRows(options: PadimRowOptions): Promise<BenchRow[]> {
  const { engine, backbone, config, images, count, size, log } = options;
  const px = size * size * 3;
  const extractor = await padimMethod.createExtractor({ engine, backbone, inputSize: size, config });
  const embedAll = async () => {
    const pyramids: Float32Array[] = [];
    for (let i = 0; i < count; i += BATCH)
      pyramids.push(...(await extractor.embedPyramids(images.subarray(i * px, (i + BATCH) * px), BATCH)));
    return pyramids;
  };
  const { levels } = extractor;
  const ids = Array.from({ length: count }, (_, i) => `bench/${i}`);
  const set = memoryEmbeddingSet(ids, await embedAll(), levels);
  const fit = () => fitPadim({ config, engine, train: set });
  const seconds = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const t = performance.now();
    const out = await fn();
    return [out, (performance.now() - t) / 1000];
  };
  // one timed pass each (a fit is seconds long; the extractor's session is warm from `set`)
  const [model, fitFromImages] = await seconds(async () => {
    await embedAll();
    return fit();
  });
  const [, fitCached] = await seconds(fit);
  // the inverses alone, on the same sums
  const { channels } = model;
  const { height, width } = levels[0];
  const acc = new PositionGaussianAccumulator(height * width, channels.length);
  for (let i = 0; i < count; i++) acc.add(nearestEmbedding({ pyramid: await set.pyramid(i), levels, channels }), 1);
  const [, inverse] = await seconds(async () => acc.finish({ epsilon: config.epsilon }));
  const rows: BenchRow[] = [
    { key: 'padim_fit_s', label: `PaDiM fit (${count} images: backbone + Gaussians)`, unit: 's', value: fitFromImages },
    { key: 'padim_fit_cached_s', label: '  from cached features', unit: 's', value: fitCached },
    {
      key: 'padim_inverse_s',
      label: `  of which Σ⁻¹ (${height * width} Cholesky inverses, d = ${channels.length})`,
      unit: 's',
      value: inverse,
    },
  ];
  log(
    `PaDiM ${engine.name}: fit ${fitFromImages.toFixed(1)} s, cached ${fitCached.toFixed(1)} s, Σ⁻¹ ${inverse.toFixed(1)} s`,
  );
  rows.push(
    ...(await inferenceThroughputRows({
      key: 'padim',
      label: 'PaDiM inference throughput',
      count,
      fromImages: async () =>
        predictPadim({ model, test: memoryEmbeddingSet(ids, await embedAll(), levels), inputSize: size }),
      fromCache: () => predictPadim({ model, test: set, inputSize: size }),
    })),
  );
  await extractor.release();
  log(`PaDiM ${engine.name}: throughput done (d = ${embeddingDimensions(config)})`);
  return rows;
}
