/**
 * What `train-eval` prints when a run is done: the per-epoch table (with per-epoch evaluation),
 * the metrics row, timings, the deployed thresholds, and where everything was written and logged.
 */
import { MLFLOW_MODEL_DIR } from '../export/mlflow-model';
import { methodOf } from '../methods/registry';
import type { CellMetrics } from '../run/run-cell';
import type { TrainEvalOutcome } from '../run/train-eval';
import { BEST_ON_TEST_LEGEND, BEST_ON_TEST_MARK } from './comparison-table';
import { formatTable, percent } from './text-table';

const HEADERS = ['I-AUROC', 'P-AUROC', 'P-AUPRO', 'P-PRO (ref)', 'I-F1max', 'P-F1max'];
const values = (x: CellMetrics) =>
  [x.imageAuroc, x.pixelAuroc, x.pixelAupro, x.pixelProReference, x.imageF1Max, x.pixelF1Max].map(percent);

/** `I-AUROC 71.2, P-AUROC 80.3, …`: one run's metrics on one line. */
export function formatMetrics(m: CellMetrics): string {
  const v = values(m);
  return HEADERS.map((h, i) => `${h} ${v[i]}`).join(', ');
}

/** The text printed on stdout after a run (ends with a newline). */
export function trainEvalSummary({ result, logged, registered }: TrainEvalOutcome, outDir: string): string {
  const { config } = result;
  const method = methodOf(config);
  const out: string[] = [];
  if (result.epochs) {
    // CFA records its radius r per epoch; other methods' records have no such column
    const radius = result.history.some((h) => h.radius !== undefined);
    const perEpoch = result.epochs.map((e) => [
      String(e.epoch),
      ...(radius ? [result.history[e.epoch - 1]?.radius?.toExponential(4) ?? ''] : []),
      ...values(e.metrics),
    ]);
    out.push(`\nper epoch (test set):\n${formatTable(['epoch', ...(radius ? ['r'] : []), ...HEADERS], perEpoch)}\n`);
  }
  const best = result.selection.kind === 'best-on-test';
  const mark = best ? BEST_ON_TEST_MARK : '';
  const row = [
    config.dataset.category,
    `${method.label}${config.ensemble === 'cfa++' ? '++' : ''}`,
    config.backbone.name,
    ...values(result.metrics).map((v) => `${v}${mark}`),
  ];
  out.push(`\n${formatTable(['category', 'method', 'backbone', ...HEADERS], [row])}\n`);
  out.push(best ? `${BEST_ON_TEST_LEGEND}\n\n` : '\n');
  const t = result.timings;
  out.push(
    `timings: embed train ${t.embedTrainSeconds.toFixed(1)} s, memory bank ${t.bankSeconds.toFixed(1)} s, train ${t.trainSeconds.toFixed(1)} s, embed test ${t.embedTestSeconds.toFixed(1)} s, score ${t.predictSeconds.toFixed(1)} s (${t.throughputImagesPerSecond.toFixed(1)} img/s), total ${t.totalSeconds.toFixed(1)} s\n`,
  );
  if (result.ensemble)
    out.push(
      `${method.label}++: mean of the anomaly maps of ${result.ensemble.views.join(' and ')} (the second aligned to the first's grid); timings are both models'\n`,
    );
  const plots = `plots/ (ROC, PRO${method.featureSpace ? ', feature space before / after adaptation' : ''})`;
  out.push(
    `wrote ${outDir}/result.json, scores.csv, ${plots}, heatmaps/${result.savedModel?.bundle ? `, the model bundle ${outDir}/model/` : ''}${result.savedModel?.mlflowModel ? ` and its MLflow Model ${outDir}/${MLFLOW_MODEL_DIR}/` : ''}\n`,
  );
  if (result.thresholds)
    out.push(
      `deployed thresholds (from ${result.thresholds.holdoutImages} held-out train images, FPR ${result.thresholds.imageFpr} / ${result.thresholds.pixelFpr}): image ${result.thresholds.image.toPrecision(6)}, pixel ${result.thresholds.pixel.toPrecision(6)}\n`,
    );
  if (logged)
    out.push(
      `logged MLflow run ${logged.runId} to ${logged.location}${logged.location.startsWith('http') ? '' : ` (open it with: mlflow ui --backend-store-uri ${logged.location})`}\n`,
    );
  if (registered) out.push(`${registered}\n`);
  return out.join('');
}
