/**
 * Where MLflow's file store keeps what (`mlflow/store/tracking/file_store.py`, MLflow 3.6), and the
 * small file helpers its reader and writer share:
 *
 *   DIR/0/meta.yaml                            the Default experiment
 *   DIR/<exp_id>/meta.yaml, tags/<key>         experiments
 *   DIR/<exp_id>/<run_id>/meta.yaml            runs: metrics/<key>, params/<key>, tags/<key>, artifacts/
 *   …/<run_id>/inputs/<md5>/meta.yaml          the run's dataset inputs; DIR/<exp_id>/datasets/<md5>/meta.yaml
 *   …/<run_id>/outputs/<model_id>/meta.yaml    the logged models the run produced (MLflow 3)
 *   DIR/<exp_id>/models/<model_id>/meta.yaml   logged models: metrics/<key>, params/<key>, tags/<key>;
 *                                              artifacts at <experiment artifact_location>/models/<model_id>/artifacts
 *   DIR/.trash/<exp_id>                        deleted experiments
 *
 * @example
 * ```ts
 * const values = await valuesUnder(join(runDir, FOLDERS.params)); // { lr: '0.01', … }
 * appendUriPath('mlflow-artifacts:', '1', 'models', id, 'artifacts'); // 'mlflow-artifacts:/1/models/…/artifacts'
 * ```
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MlflowCorruptStoreError } from './errors';

export const META = 'meta.yaml';
export const TRASH = '.trash';
export const FOLDERS = {
  metrics: 'metrics',
  params: 'params',
  tags: 'tags',
  artifacts: 'artifacts',
  inputs: 'inputs',
  outputs: 'outputs',
  datasets: 'datasets',
  models: 'models',
} as const;
/** Experiment sub-folders that are not runs (FileStore.RESERVED_EXPERIMENT_FOLDERS). */
export const RESERVED = new Set(['tags', 'datasets', 'traces', 'models']);

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Files under a folder as '/'-joined keys, like os.walk in MLflow's `_get_resource_files`. */
export async function keysUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, prefix: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.push(`${prefix}${e.name}`);
    }
  };
  await walk(dir, '');
  return out.sort();
}

/** A file of the store as text; one that exists but cannot be read (a folder, no permission) names itself. */
export async function readStoreFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new MlflowCorruptStoreError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
}

/** Every value file under a folder (params/, tags/) as key → content. */
export async function valuesUnder(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of await keysUnder(dir)) out[key] = await readStoreFile(join(dir, key));
  return out;
}

/** MLflow's `_get_dataset_id` / `_get_dataset_input_id`: md5 of the parts, concatenated. */
export function md5Hex(...parts: string[]): string {
  const hash = createHash('md5');
  for (const p of parts) hash.update(p, 'utf8');
  return hash.digest('hex');
}

/** MLflow's `append_to_uri_path` for the URIs this store writes. */
export function appendUriPath(uri: string, ...parts: string[]): string {
  const suffix = parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');
  if (/^[a-z][\w+.-]*:$/i.test(uri)) return `${uri}/${suffix}`; // 'mlflow-artifacts:' → 'mlflow-artifacts:/1'
  return `${uri.replace(/\/+$/, '')}/${suffix}`;
}
