/**
 * PatchCore's bench rows, per backbone and engine, through the functions a run calls (the
 * method's extractor, `fitPatchCore`, `predictPatchCore`) with the default `PatchCoreConfig`
 * (the authors' settings) on the bench's images; tools/torch-reference/patchcore_bench_reference.py
 * times the authors' code on the same images and weights under the same keys:
 *
 * - `patchcore_embed_ms`: locally aware patch features from the images (backbone + aggregation);
 * - `patchcore_fit_s_p10` / `_p1`: the fit on the images with a 10 % / 1 % coreset — features from
 *   the images, then the coreset — and `patchcore_coreset_s_p10` / `_p1`, the coreset alone (the
 *   budget a sweep cell holds it to: docs/patchcore.md);
 * - `patchcore_throughput`: images/s of inference from the images (features, nearest bank
 *   entries, maps) against the 10 % bank, and `patchcore_cached_throughput` from cached features.
 */
import type { BackboneModel } from '@cfa/backbone';
import type { EngineSelection } from '@cfa/tensor-runtime';
import { memoryEmbeddingSet } from '@cfa/method-kit';
import {
  type FittedPatchCore,
  fitPatchCore,
  type PatchCoreConfig,
  patchcoreMethod,
  predictPatchCore,
} from '@cfa/patchcore';
import { type BenchRow, inferenceThroughputRows, median } from './timing';

const BATCH = 4;

export interface PatchCoreRowsOptions {
  engine: EngineSelection;
  backbone: BackboneModel;
  config: PatchCoreConfig;
  /** `count` images [count, size, size, 3], normalised. */
  images: Float32Array;
  count: number;
  size: number;
  log: (line: string) => void;
}

export async function patchCoreRows(options: PatchCoreRowsOptions): Promise<BenchRow[]> {
  const { engine, backbone, config, images, count, size, log } = options;
  const name = `${backbone.definition.name} ${engine.name} PatchCore`;
  const px = size * size * 3;
  const extractor = await patchcoreMethod.createExtractor({ engine, backbone, inputSize: size, config });
  const embedAll = async () => {
    const features: Float32Array[] = [];
    for (let i = 0; i < count; i += BATCH)
      features.push(...(await extractor.embedPyramids(images.subarray(i * px, (i + BATCH) * px), BATCH)));
    return features;
  };
  const ids = Array.from({ length: count }, (_, i) => `bench/${i}`);
  const rows: BenchRow[] = [];
  try {
    let features: Float32Array[] = [];
    const embedMs = await median(async () => (features = await embedAll()), 1);
    rows.push({
      key: 'patchcore_embed_ms',
      label: 'PatchCore features (layer2+3)',
      unit: 'ms/img',
      value: embedMs / count,
    });
    const set = memoryEmbeddingSet(ids, features, extractor.levels);
    let bank10: FittedPatchCore | undefined;
    for (const fraction of [0.1, 0.01]) {
      const suffix = fraction === 0.1 ? 'p10' : 'p1';
      const fitted = await fitPatchCore({
        config: { ...config, coreset: { ...config.coreset, fraction } },
        engine,
        train: set,
      });
      if (fraction === 0.1) bank10 = fitted;
      const percent = `${100 * fraction} %`;
      rows.push(
        {
          key: `patchcore_fit_s_${suffix}`,
          label: `PatchCore fit, ${count} images, coreset ${percent}`,
          unit: 's',
          value: embedMs / 1000 + fitted.seconds,
        },
        {
          key: `patchcore_coreset_s_${suffix}`,
          label: `  of which the coreset (${fitted.bank.size} of ${fitted.coreset.trainPatches})`,
          unit: 's',
          value: fitted.coreset.projectSeconds + fitted.coreset.selectSeconds,
        },
      );
      log(
        `${name}: fit ${percent} ${fitted.seconds.toFixed(1)} s on cached features (coreset select ${fitted.coreset.selectSeconds.toFixed(1)} s)`,
      );
    }
    const model = bank10!;
    rows.push(
      ...(await inferenceThroughputRows({
        key: 'patchcore',
        label: 'PatchCore inference, 10 % bank',
        count,
        fromImages: async () =>
          predictPatchCore({
            model,
            test: memoryEmbeddingSet(ids, await embedAll(), extractor.levels),
            inputSize: size,
          }),
        fromCache: () => predictPatchCore({ model, test: set, inputSize: size }),
      })),
    );
    log(`${name}: throughput done`);
  } finally {
    await extractor.release();
  }
  return rows;
}
