/**
 * `predict`: a saved model scores new images — one file or a folder, no ground truth — and writes
 * scores (CSV + JSON), raw maps (float32 .npy), masks at the threshold and heatmap panels into one
 * folder (see predict/predict-folder.ts). Checks the model, its backbone weights and the inputs
 * before the long work; an error leaves nothing half-written in `--out`. `--model` is a folder, or
 * a model of the tracking server's Model Registry — `models:/NAME@ALIAS`, `models:/NAME/VERSION`,
 * `models:/<model_id>` — downloaded first (predict/registered-model.ts).
 */
import { Command, Option } from 'commander';
import {
  addEngineOptions,
  positiveInt,
  engineFromOptions,
  type EngineOptions,
  timestampedRunDir,
} from './common-options';
import { createLogger, createPhaseProgress } from './logger';
import { predictFolder } from '../predict/predict-folder';
import { fetchRegisteredModel, isModelUri, MODEL_CACHE } from '../predict/registered-model';

interface PredictOptions extends EngineOptions {
  model: string;
  input: string;
  out?: string;
  threshold?: number;
  imageThreshold?: number;
  weights?: string;
  chunk: number;
  heatmaps: boolean;
  json?: boolean;
  trackingUri?: string;
  modelCache: string;
}

function finiteNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`expected a number, got '${value}'`);
  return n;
}

export function predictCommand(): Command {
  const command = new Command('predict')
    .description('score new images with a saved model: anomaly maps, image scores, masks at the threshold, heatmaps')
    .requiredOption(
      '--model <dir|uri>',
      'a model folder (<run folder>/model, written by train-eval and sweeps), its run folder, or a registered model: models:/NAME@ALIAS, models:/NAME/VERSION (downloaded from --tracking-uri)',
    )
    .requiredOption('--input <path>', 'an image file, or a folder of images (searched recursively)')
    .option('--out <dir>', 'output folder (default runs/predict/<time>)')
    .option('--threshold <v>', "pixel threshold for the masks (default: the model's calibrated one)", finiteNumber)
    .option(
      '--image-threshold <v>',
      "image threshold for 'anomalous' (default: the model's calibrated one)",
      finiteNumber,
    )
    .option('--weights <file>', 'the backbone weight file, if it moved since the fit (its sha256 must match)')
    .option('--chunk <n>', 'images decoded and scored at a time', positiveInt, 16)
    .option('--no-heatmaps', 'skip the heatmap panels')
    .option('--json', 'print scores.json on stdout')
    .addOption(
      new Option('--tracking-uri <uri>', 'the MLflow server that resolves a models:/ --model').env(
        'MLFLOW_TRACKING_URI',
      ),
    )
    .option('--model-cache <dir>', 'where models:/ downloads are kept (a logged model never changes)', MODEL_CACHE);
  addEngineOptions(command);
  return command.action(async (options: PredictOptions) => {
    const log = createLogger();
    let modelDir = options.model;
    if (isModelUri(options.model)) {
      const fetched = await fetchRegisteredModel(options.model, {
        trackingUri: options.trackingUri,
        cacheRoot: options.modelCache,
      });
      log.info(`${fetched.description}: ${fetched.downloaded ? 'downloaded to' : 'cached in'} ${fetched.dir}`);
      modelDir = fetched.dir;
    }
    const engine = await engineFromOptions(options, log);
    const out = options.out ?? timestampedRunDir('predict');
    const progress = createPhaseProgress();
    const summary = await predictFolder({
      modelDir,
      input: options.input,
      out,
      engine,
      threshold: options.threshold,
      imageThreshold: options.imageThreshold,
      weightsPath: options.weights,
      chunk: options.chunk,
      heatmaps: options.heatmaps,
      log: log.warn,
      onProgress: (phase, done, total) => progress.update(phase, done, total),
    }).finally(() => progress.stop());
    if (options.json) {
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      return;
    }
    const t = summary.thresholds;
    const flagged = summary.images.filter((i) => i.anomalous).length;
    process.stdout.write(
      `${summary.images.length} image(s) scored by ${summary.model.dir} (${summary.model.backbone}, ${summary.model.views.join(' + ')})\n` +
        `image threshold ${t.image ?? 'none'}${t.source.image ? ` (${t.source.image})` : ''}: ${t.image === null ? 'no image flagged' : `${flagged} flagged anomalous`}; ` +
        `pixel threshold ${t.pixel ?? 'none'}${t.source.pixel ? ` (${t.source.pixel})` : ' — no masks; pass --threshold or use a model fitted with calibration.holdout > 0'}\n` +
        `wrote ${out}/scores.csv, scores.json, maps/${t.pixel === null ? '' : ', masks/'}${options.heatmaps ? ', heatmaps/' : ''}\n`,
    );
  });
}
