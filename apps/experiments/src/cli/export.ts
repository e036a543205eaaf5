/**
 * `export`: a saved model as one ONNX graph (`--format onnx`: image → anomaly map + image score,
 * everything inside, any batch size) or as an MLflow Model folder holding that graph
 * (`--format mlflow`: MLmodel with the onnx and python_function flavors, requirements).
 */
import { Command, Option } from 'commander';
import { buildOnnxModel, loadModel } from '@cfa/method-kit';
import { METHODS } from '../methods/registry';
import { writeFileAtomic } from '@cfa/io';
import { addEngineOptions, engineFromOptions, type EngineOptions } from './common-options';
import { createLogger } from './logger';
import { resolveModelDir } from '../predict/predict-folder';
import { writeMlflowModel } from '../export/mlflow-model';

interface ExportOptions extends EngineOptions {
  model: string;
  format: 'onnx' | 'mlflow';
  out: string;
  weights?: string;
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
    .requiredOption('--out <path>', 'the .onnx file (--format onnx) or the folder (--format mlflow)')
    .option('--weights <file>', 'the backbone weight file, if it moved since the fit (its sha256 must match)');
  addEngineOptions(command);
  return command.action(async (options: ExportOptions) => {
    const log = createLogger();
    // the model is only read here (weights, bank, backbone); the engine builds the random-init backbone
    const engine = await engineFromOptions(options, log);
    const dir = await resolveModelDir(options.model);
    const { model } = await loadModel(dir, { engine, methods: METHODS, weightsPath: options.weights });
    const onnx = options.format === 'onnx' ? buildOnnxModel(model) : (await writeMlflowModel(options.out, model)).onnx;
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
