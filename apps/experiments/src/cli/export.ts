/**
 * `export`: a saved model as one ONNX graph (`--format onnx`: image → anomaly map + image score,
 * everything inside, any batch size ≥ 1) or as an MLflow Model folder holding that graph
 * (`--format mlflow`: MLmodel with the onnx and python_function flavors, requirements).
 *
 * `--out` is checked before the model is read: outside the model and its run folder, and an
 * existing file or export is replaced only with `--force`. The file is written atomically and the
 * folder staged and swapped in whole; a failure names `--out`, never a temp file.
 */
import { Command, Option } from 'commander';
import { buildOnnxModel, loadModel } from '@cfa/method-kit';
import { METHODS } from '../methods/registry';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { checkOutputApart, checkOutputFolder, checkReplaceable, withStagedFolder, writeFileAtomic } from '@cfa/io';
import { addEngineOptions, engineFromOptions, type EngineOptions } from './common-options';
import { createLogger } from './logger';
import { resolveModelDir } from '../predict/predict-folder';
import { MLMODEL_FILE, ONNX_FILE, writeMlflowModel } from '../export/mlflow-model';

interface ExportOptions extends EngineOptions {
  model: string;
  format: 'onnx' | 'mlflow';
  out: string;
  weights?: string;
  force?: boolean;
}

/** The files an MLflow Model folder holds: a folder of only these may be replaced (with --force). */
const MLFLOW_MODEL_FILES = [MLMODEL_FILE, ONNX_FILE, 'conda.yaml', 'python_env.yaml', 'requirements.txt'];

/**
 * `--out`, checked before the model is read: apart from the model folder and its run folder (an
 * export inside them is lost or refused when the run is written again), not a folder where a file
 * goes, and nothing already there unless `--force`.
 */
async function checkExportOut(options: ExportOptions, modelDir: string): Promise<void> {
  const { out, format } = options;
  await checkOutputApart({ what: '--out', path: out }, [
    { what: '--model', path: options.model },
    ...(basename(modelDir) === 'model' ? [{ what: 'the run folder of --model', path: dirname(modelDir) }] : []),
  ]);
  const found = await stat(out).catch(() => undefined);
  if (format === 'onnx') {
    await checkOutputFolder(dirname(out), '--out');
    if (found?.isDirectory()) throw new Error(`--out ${out}: is a folder; --format onnx writes one .onnx file`);
    if (found && !options.force) throw new Error(`--out ${out}: exists; pass --force to replace it`);
  } else {
    await checkOutputFolder(out, '--out');
    if (found && !options.force && (await readdir(out)).length)
      throw new Error(`--out ${out}: holds an earlier export; pass --force to replace it`);
    if (found) await checkReplaceable(out, { what: '--out', outputs: MLFLOW_MODEL_FILES });
  }
}

export function exportCommand(): Command {
  const command = new Command('export')
    .description('export a saved model as one ONNX graph (image → anomaly map + score) or an MLflow Model folder')
    .requiredOption('--model <dir>', 'a model folder (<run folder>/model), or its run folder')
    .addOption(
      new Option('--format <kind>', 'onnx: one .onnx file; mlflow: an MLflow Model folder with the ONNX file')
        .choices(['onnx', 'mlflow'])
        .default('onnx'),
    )
    .requiredOption(
      '--out <path>',
      'the .onnx file (--format onnx) or the folder (--format mlflow); outside the model and its run folder',
    )
    .option('--force', 'replace an existing --out')
    .option('--weights <file>', 'the backbone weight file, if it moved since the fit (its sha256 must match)');
  addEngineOptions(command);
  return command.action(async (options: ExportOptions) => {
    const log = createLogger();
    const dir = await resolveModelDir(options.model);
    await checkExportOut(options, dir);
    // the model is only read here (weights, bank, backbone); the engine builds the random-init backbone
    const engine = await engineFromOptions(options, log);
    const { model } = await loadModel(dir, { engine, methods: METHODS, weightsPath: options.weights });
    const onnx =
      options.format === 'onnx'
        ? buildOnnxModel(model)
        : await withStagedFolder(options.out, async (stage) => (await writeMlflowModel(stage, model)).onnx, {
            what: '--out',
            outputs: MLFLOW_MODEL_FILES,
          });
    if (options.format === 'onnx') await writeFileAtomic(options.out, onnx.bytes);
    const mb = (onnx.bytes.length / 2 ** 20).toFixed(1);
    process.stdout.write(
      `wrote ${options.out} (${options.format === 'onnx' ? 'ONNX' : 'MLflow Model with model.onnx'}, ${mb} MiB)\n` +
        onnx.inputs.map((i) => `input  ${i.name}: ${i.description}\n`).join('') +
        onnx.outputs.map((o) => `output ${o.name}: ${o.description}\n`).join('') +
        (model.thresholds
          ? `calibrated thresholds (in the model's metadata): image ${model.thresholds.image}, pixel ${model.thresholds.pixel}\n`
          : 'no calibrated thresholds (fitted with calibration.holdout 0)\n'),
    );
  });
}
