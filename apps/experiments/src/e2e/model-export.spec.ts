/**
 * Trained models leaving the run, end to end against the real MLflow 3.6 server
 * (../shared/mlflow-server/serve.sh; skipped with the reason when absent): `train-eval
 * --register --alias` logs the trained model as an MLflow 3 logged model (the MLflow Model and the
 * bundle), registers it as a version with the alias, `models:/NAME@ALIAS` downloads it, MLflow's own
 * Python `Model.load` reads the downloaded folder, ONNX's checker accepts its model.onnx, and
 * `predict` scores new images with the downloaded bundle as the run scored them.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectEngine } from '@cfa/tensor-runtime';
import { indexCategory } from '@cfa/data';
import { ModelRegistryClient, RestTrackingStore, searchAllLoggedModels, searchAllRuns } from '@cfa/tracking';
import { findServeScript, freePort, type RealServer, startRealMlflow } from '@cfa/tracking/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../testing/cli-process';
import { TINY_BASE, tinyDataset } from '../testing/tiny-dataset';
import { LOGGED_MODELS_TAG, MLFLOW_MODEL_DIR } from '../export/mlflow-model';
import { predictFolder, resolveModelDir } from '../predict/predict-folder';
import type { CellResult } from '../run/run-cell';
import { TRAIN_EVAL_EXPERIMENT } from '../run/train-eval';

const { script, reason } = findServeScript();
if (!script) process.stderr.write(`[experiments] model export against the real MLflow server skipped: ${reason}\n`);

/** `serve.sh env`: the PYTHONPATH and interpreter that import the bundled MLflow. */
function mlflowPython(serveScript: string): { python: string; env: Record<string, string> } {
  const line = execFileSync('bash', [serveScript, 'env'], { encoding: 'utf8', timeout: 600_000 })
    .trim()
    .split('\n')
    .at(-1)!;
  const parts = line.split(' ');
  const env = Object.fromEntries(parts.slice(0, -1).map((p) => p.split('=') as [string, string]));
  return { python: parts.at(-1)!, env };
}

describe.skipIf(!script)('train-eval → MLflow model → registry → predict, on the real server', () => {
  let server: RealServer;
  let dir: string;
  let dataRoot: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'model-export-e2e-'));
    const port = Number(process.env.CFA_TEST_MLFLOW_PORT) || (await freePort());
    server = await startRealMlflow(script!, join(dir, 'mlruns'), port);
    dataRoot = await tinyDataset(['disc']);
  }, 600_000);
  afterAll(async () => server?.stop());

  it('logs the model as a logged model, registers it with an alias, and models:/NAME@ALIAS is read back', async () => {
    const config = join(dir, 'run.yaml');
    await writeFile(config, stringify({ dataset: { root: dataRoot, category: 'disc' }, cfa: TINY_BASE, heatmaps: 1 }));
    const out = join(dir, 'run');
    const cli = await runCli([
      'train-eval',
      '--config',
      config,
      '--out',
      out,
      '--tracking-uri',
      server.url,
      '--register',
      'cfa-disc',
      '--alias',
      'champion',
      // a model to deploy: thresholds from a held-out quarter of train/good (the default holds out none)
      '--holdout',
      '0.25',
      '--json',
    ]);
    expect(cli.code, cli.output).toBe(0);
    const result = JSON.parse(
      cli.output.slice(cli.output.indexOf('{\n'), cli.output.lastIndexOf('}') + 1),
    ) as CellResult;
    expect(result.thresholds?.holdoutImages).toBe(1);

    const store = new RestTrackingStore({ uri: server.url, retry: { attempts: 3, baseDelayMs: 100 } });
    const experiment = await store.getExperimentByName(TRAIN_EVAL_EXPERIMENT);
    const [run] = await searchAllRuns(store, { experimentIds: [experiment!.experimentId] });
    expect(run.info.status).toBe('FINISHED');
    expect(run.data.metrics.threshold_pixel?.value).toBeCloseTo(result.thresholds!.pixel, 5);
    const root = (await store.listArtifacts(run.info.runId)).map((a) => a.path);
    expect(root).toEqual(expect.arrayContaining(['result.json', 'scores.csv']));
    // the model's folders are the logged model's, not the run's
    expect(root).not.toContain(MLFLOW_MODEL_DIR);
    const [model] = await searchAllLoggedModels(store, { experimentIds: [experiment!.experimentId] });
    expect(model).toMatchObject({ status: 'READY', sourceRunId: run.info.runId });
    expect(run.outputs.modelOutputs).toEqual([{ modelId: model.modelId, step: 0 }]);
    expect(model.metrics.find((m) => m.key === 'image_auroc')).toMatchObject({
      datasetName: 'disc',
      runId: run.info.runId,
    });
    const history = JSON.parse(run.data.tags[LOGGED_MODELS_TAG]);
    expect(history[0]).toMatchObject({
      run_id: run.info.runId,
      model_id: model.modelId,
      artifact_path: model.artifactUri,
    });

    const registry = new ModelRegistryClient({ uri: server.url });
    const version = await registry.getModelVersionByAlias('cfa-disc', 'champion');
    expect(version).toMatchObject({
      version: '1',
      source: `models:/${model.modelId}`,
      modelId: model.modelId,
      runId: run.info.runId,
    });

    // download it as a user of the server would: models:/NAME@ALIAS
    const mlflowDir = join(dir, 'downloaded');
    const got = await registry.downloadModel('models:/cfa-disc@champion', mlflowDir);
    await registry.close();
    expect(got.files.map((f) => f.slice(mlflowDir.length + 1)).sort()).toEqual([
      'MLmodel',
      'conda.yaml',
      'model.onnx',
      'model/manifest.json',
      'model/weights.safetensors',
      'python_env.yaml',
      'requirements.txt',
    ]);
    const bundleDir = await resolveModelDir(mlflowDir);
    await store.close();

    // MLflow's own reader, on the downloaded folder
    const { python, env } = mlflowPython(script!);
    const loaded = execFileSync(
      python,
      [
        '-c',
        [
          'import json, sys',
          'from mlflow.models import Model',
          'm = Model.load(sys.argv[1])',
          'print(json.dumps({"flavors": sorted(m.flavors), "loader": m.flavors["python_function"]["loader_module"],',
          '  "data": m.flavors["onnx"]["data"], "run_id": m.run_id,',
          '  "inputs": m.signature.inputs.input_names(), "outputs": m.signature.outputs.input_names()}))',
        ].join('\n'),
        mlflowDir,
      ],
      { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 },
    );
    expect(JSON.parse(loaded.trim().split('\n').at(-1)!)).toEqual({
      flavors: ['onnx', 'python_function'],
      loader: 'mlflow.onnx',
      data: 'model.onnx',
      run_id: run.info.runId,
      inputs: ['image'],
      outputs: ['anomaly_map', 'image_score'],
    });
    const hasOnnx = (() => {
      try {
        execFileSync(python, ['-c', 'import onnx'], { stdio: 'ignore', env: { ...process.env, ...env } });
        return true;
      } catch {
        return false;
      }
    })();
    if (hasOnnx)
      execFileSync(
        python,
        [
          '-c',
          'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)',
          join(mlflowDir, 'model.onnx'),
        ],
        { env: { ...process.env, ...env }, timeout: 300_000 },
      );
    else
      console.log(
        `ONNX checker on the downloaded model.onnx skipped: ${python} cannot import onnx (apt-get install python3-onnx)`,
      );
    try {
      execFileSync(python, ['-c', 'import mlflow.pyfunc, onnxruntime'], {
        stdio: 'pipe',
        env: { ...process.env, ...env },
      });
    } catch (error) {
      console.log(
        `mlflow.pyfunc.load_model not tried: this Python cannot import mlflow.pyfunc and onnxruntime (${String(
          (error as { stderr?: Buffer }).stderr ?? '',
        )
          .trim()
          .split('\n')
          .at(-1)})`,
      );
    }

    // the downloaded bundle scores new images as the run scored them
    const index = await indexCategory({ root: dataRoot, category: 'disc' });
    const images = join(dir, 'new-images');
    await mkdir(images);
    for (const ref of index.test) await cp(ref.imagePath, join(images, `${ref.id.replaceAll('/', '_')}.png`));
    const engine = await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 1 });
    const summary = await predictFolder({ modelDir: bundleDir, input: images, out: join(dir, 'predicted'), engine });
    for (const p of result.perImage) {
      const got = summary.images.find((i) => i.name === p.id.replaceAll('/', '_'))!;
      expect(Math.abs(got.score - p.score), p.id).toBeLessThanOrEqual(1e-6);
    }
  });
});
