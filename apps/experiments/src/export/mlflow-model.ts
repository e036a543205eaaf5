/**
 * A trained model as an MLflow Model folder holding its one-graph ONNX export, laid out as
 * `mlflow.onnx.save_model` writes one (MLflow 3.6: `mlflow/onnx/__init__.py`, `save_model`;
 * `mlflow/models/model.py`, `Model.to_dict`; `mlflow/utils/environment.py`), so that MLflow's
 * tools take it as their own — `mlflow.pyfunc.load_model('runs:/<run>/mlflow-model')` or
 * `models:/<name>/<version>` where onnxruntime is installed, `mlflow models serve`, the UI's
 * "Register model":
 *
 *   MLmodel            flavors `onnx` (data: model.onnx, providers, onnx_version) and `python_function`
 *                      (loader_module: mlflow.onnx, data, env: conda.yaml / python_env.yaml,
 *                      python_version), the tensor signature, model_uuid, utc_time_created,
 *                      model_size_bytes, run_id + artifact_path when logged, and our metadata
 *   model.onnx         `buildOnnxModel` (weights inline; MLflow would move large tensors to an
 *                      external-data file, which `onnx.load` and onnxruntime read alike)
 *   conda.yaml, python_env.yaml, requirements.txt   the Python environment that loads it
 *
 * Not written by MLflow, so two fields are ours to choose: the Python version (`MODEL_PYTHON_VERSION`,
 * used by `--env-manager virtualenv` and for a version warning on load) and lower bounds instead of
 * pins in the requirements (nothing here was pip-installed to pin). Files are written atomically,
 * MLmodel last, so a folder with an MLmodel is complete.
 *
 * @example
 * ```ts
 * const written = await writeMlflowModel('runs/x/mlflow-model', run.model, { runId, artifactPath: 'mlflow-model' });
 * written.loggedModel; // the `mlflow.log-model.history` entry for the run
 * ```
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { parseDocument, Scalar, stringify } from 'yaml';
import { writeFileAtomic } from '@cfa/io';
import { buildOnnxModel, MODEL_FORMAT_VERSION, type OnnxExport, type TrainedModel } from '@cfa/method-kit';

/** The artifact folder a tracked run logs the MLflow Model to. */
export const MLFLOW_MODEL_DIR = 'mlflow-model';
export const MLMODEL_FILE = 'MLmodel';
export const ONNX_FILE = 'model.onnx';
/** The run tag MLflow's clients append a logged model's summary to (`MLFLOW_LOGGED_MODELS`). */
export const LOGGED_MODELS_TAG = 'mlflow.log-model.history';
/** Python of the model's environment: the oldest that current MLflow and onnxruntime both support. */
export const MODEL_PYTHON_VERSION = '3.10';
/** What `mlflow.onnx`'s pyfunc needs (its `get_default_pip_requirements`: onnx, onnxruntime), as lower bounds. */
export const MODEL_REQUIREMENTS = ['mlflow>=2.9', 'onnx>=1.12', 'onnxruntime>=1.16'];
/** The ONNX release whose checker the export is tested with (`onnx_version` of the flavor). */
export const ONNX_VERSION = '1.12.0';

export interface MlflowModelOptions {
  /** The run the folder is logged to, and its path there: both go into MLmodel. */
  runId?: string;
  artifactPath?: string;
}

export interface WrittenMlflowModel {
  onnx: OnnxExport;
  modelUuid: string;
  modelSizeBytes: number;
  /** The summary MLflow keeps of a logged model in the run's `mlflow.log-model.history` tag. */
  loggedModel: Record<string, unknown>;
}

/** A YAML string that PyYAML reads back as a string (an unquoted date or `3.10` would not be one). */
function quoted(value: string): Scalar {
  const s = new Scalar(value);
  s.type = 'QUOTE_SINGLE';
  return s;
}

/** `datetime.now(timezone.utc).replace(tzinfo=None)` as `str()` prints it: `2026-12-01 14:13:53.378000`. */
function utcTimeCreated(now: Date): string {
  return `${now.toISOString().replace('T', ' ').replace('Z', '')}000`;
}

/** MLflow's JSON of a tensor schema (`Schema.to_json`: json.dumps with its default separators). */
function tensorSchema(entries: { name: string; shape: (string | number)[] }[]): string {
  return `[${entries
    .map(
      (e) =>
        `{"name": "${e.name}", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [${e.shape
          .map((d) => (typeof d === 'number' ? d : -1))
          .join(', ')}]}}`,
    )
    .join(', ')}]`;
}

export async function writeMlflowModel(
  dir: string,
  model: TrainedModel,
  options: MlflowModelOptions = {},
): Promise<WrittenMlflowModel> {
  const onnx = buildOnnxModel(model);
  const modelUuid = randomUUID().replaceAll('-', '');
  const created = utcTimeCreated(new Date());
  await writeFileAtomic(join(dir, ONNX_FILE), onnx.bytes);
  const requirements = MODEL_REQUIREMENTS;
  await writeFileAtomic(
    join(dir, 'conda.yaml'),
    stringify({
      channels: ['conda-forge'],
      dependencies: [`python=${MODEL_PYTHON_VERSION}`, 'pip', { pip: requirements }],
      name: 'mlflow-env',
    }),
  );
  await writeFileAtomic(
    join(dir, 'python_env.yaml'),
    stringify({
      python: quoted(MODEL_PYTHON_VERSION),
      build_dependencies: ['pip', 'setuptools', 'wheel'],
      dependencies: ['-r requirements.txt'],
    }),
  );
  await writeFileAtomic(join(dir, 'requirements.txt'), requirements.join('\n'));
  const flavors = {
    onnx: {
      code: null,
      data: ONNX_FILE,
      onnx_session_options: null,
      onnx_version: ONNX_VERSION,
      providers: ['CUDAExecutionProvider', 'CPUExecutionProvider'],
    },
    python_function: {
      data: ONNX_FILE,
      env: { conda: 'conda.yaml', virtualenv: 'python_env.yaml' },
      loader_module: 'mlflow.onnx',
      python_version: quoted(MODEL_PYTHON_VERSION),
    },
  };
  const mlmodel = {
    ...(options.artifactPath ? { artifact_path: options.artifactPath } : {}),
    flavors,
    metadata: {
      producer: 'cfa-toolkit',
      cfa_model_format_version: MODEL_FORMAT_VERSION,
      method: model.method.name,
      backbone: model.backbone.definition.name,
      ensemble: model.config.ensemble,
      inputs: onnx.inputs.map((i) => ({ name: i.name, description: i.description })),
      outputs: onnx.outputs.map((o) => ({ name: o.name, description: o.description })),
      thresholds: model.thresholds ? { image: model.thresholds.image, pixel: model.thresholds.pixel } : null,
    },
    model_size_bytes: onnx.bytes.length,
    model_uuid: modelUuid,
    ...(options.runId ? { run_id: options.runId } : {}),
    signature: {
      inputs: tensorSchema(onnx.inputs),
      outputs: tensorSchema(onnx.outputs),
      params: null,
    },
    utc_time_created: quoted(created),
  };
  // MLmodel last: its presence marks a complete folder
  await writeFileAtomic(join(dir, MLMODEL_FILE), stringify(mlmodel));
  return {
    onnx,
    modelUuid,
    modelSizeBytes: onnx.bytes.length,
    loggedModel: {
      ...(options.runId ? { run_id: options.runId } : {}),
      ...(options.artifactPath ? { artifact_path: options.artifactPath } : {}),
      utc_time_created: created,
      model_uuid: modelUuid,
      flavors: {
        onnx: flavors.onnx,
        python_function: { ...flavors.python_function, python_version: MODEL_PYTHON_VERSION },
      },
    },
  };
}

/**
 * An MLmodel text as MLflow 3 writes it for a logged model (`Model.log`: `model_id`, and
 * `artifact_path` the model's own artifact folder): the same document with those two fields set,
 * every other value and its quoting kept.
 */
export function mlmodelForLoggedModel(text: string, loggedModel: { modelId: string; artifactUri: string }): string {
  const doc = parseDocument(text);
  doc.set('artifact_path', loggedModel.artifactUri);
  doc.set('model_id', loggedModel.modelId);
  return doc.toString();
}
