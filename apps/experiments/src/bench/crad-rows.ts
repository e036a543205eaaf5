/**
 * What `bench --methods crad` measures per engine on MFCN features of the embedded default (the
 * backbone's cost is the CFA rows' business): one training epoch of `fitCrad` — the second of
 * two, a warm one — and inference throughput of `predictCrad` from cached features (the
 * reconstruction, the distance map, the upsampling, smoothing and the image score). The PyTorch
 * side (`tools/torch-reference/crad_bench_reference.py`) times the CRAD reference module on the
 * same features and settings.
 */
import { type CradConfig, CradConfigSchema, fitCrad, predictCrad } from '@cfa/crad';
import type { EmbeddingSet } from '@cfa/method-kit';
import type { EngineSelection } from '@cfa/tensor-runtime';
import { type BenchRow, median } from './timing';

export interface BenchCradOptions {
  engine: EngineSelection;
  config: CradConfig;
  /** MFCN features of the bench images. */
  set: EmbeddingSet;
  inputSize: number;
  log: (line: string) => void;
}

export async function benchCradEngine({ engine, config, set, inputSize, log }: BenchCradOptions): Promise<BenchRow[]> {
  const count = set.ids.length;
  // two epochs, the second timed: the first builds the training graph / session
  const trainConfig = CradConfigSchema.parse({ ...config, training: { ...config.training, epochs: 2 } });
  const fitted = await fitCrad({ config: trainConfig, engine, train: set });
  const [first, second] = fitted.history;
  log(
    `crad ${engine.name}: epoch ${second.seconds.toFixed(1)} s (the second; the first ${first.seconds.toFixed(1)} s)`,
  );
  const predictMs = await median(() => predictCrad({ model: fitted, test: set, inputSize }), 1);
  log(`crad ${engine.name}: inference ${((count * 1000) / predictMs).toFixed(1)} img/s from cached features`);
  return [
    {
      key: 'epoch_s',
      label: `training epoch (${count} images, batch ${config.training.batchSize})`,
      unit: 's',
      value: second.seconds,
    },
    {
      key: 'cached_throughput',
      label: 'inference from cached features',
      unit: 'img/s',
      value: (count * 1000) / predictMs,
    },
  ];
}
