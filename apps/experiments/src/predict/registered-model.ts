/**
 * A model from the Model Registry for `predict` and `export`: `models:/NAME@ALIAS`,
 * `models:/NAME/VERSION` or `models:/<model_id>` resolved on the tracking server (as MLflow's
 * `ModelsArtifactRepository` resolves it), its folder downloaded through the server's artifact
 * proxy with the tracking credentials (`MLFLOW_TRACKING_USERNAME` / `_PASSWORD`, `_TOKEN`), into
 * `.cache/models/<model_id>`: a logged model's files never change, so a second use reads the cache.
 * The folder is the logged model's — the MLflow Model at its root, the bundle in `model/` — which
 * `resolveModelDir` reads like a run folder. The download goes to a temp folder renamed into
 * place, so a cached folder is always complete.
 *
 * @example
 * ```ts
 * const { dir, description } = await fetchRegisteredModel('models:/cfa-fleece@champion', { trackingUri });
 * await predictFolder({ modelDir: dir, … });
 * ```
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactProxy, MlflowError, ModelRegistryClient, parseModelUri, proxyRoot } from '@cfa/tracking';

export const MODEL_CACHE = join('.cache', 'models');

/** Whether `--model` names a registry model rather than a folder. */
export const isModelUri = (value: string) => value.trim().startsWith('models:/');

export interface FetchedModel {
  dir: string;
  /** What it resolved to, for the log: `models:/cfa-fleece@champion = version 3 (logged model m-…)`. */
  description: string;
  /** Whether it was downloaded now (false: read from the cache). */
  downloaded: boolean;
}

export async function fetchRegisteredModel(
  uri: string,
  options: { trackingUri?: string; cacheRoot?: string; env?: Record<string, string | undefined> },
): Promise<FetchedModel> {
  const fail = (why: string) => new Error(`--model ${uri}: ${why}`);
  // the form is checked before any request
  try {
    parseModelUri(uri);
  } catch (error) {
    throw fail((error as Error).message);
  }
  if (!/^https?:\/\//i.test(options.trackingUri ?? ''))
    throw fail(
      'a models:/ URI is resolved by an MLflow server: pass --tracking-uri http://… (or set MLFLOW_TRACKING_URI)',
    );
  const registry = new ModelRegistryClient({ uri: options.trackingUri!, env: options.env ?? process.env });
  try {
    const resolved = await registry.resolveModelUri(uri).catch((error: unknown) => {
      throw fail(error instanceof MlflowError ? error.message : String(error));
    });
    const root = proxyRoot(resolved.artifactUri);
    if (root === undefined)
      throw fail(
        `it resolves to '${resolved.artifactUri}', which the server does not serve through its artifact proxy`,
      );
    const id = resolved.modelId ?? `${resolved.version!.name}-v${resolved.version!.version}`.replace(/[^\w.-]/g, '_');
    const description = `${uri} = ${resolved.version ? `version ${resolved.version.version} of '${resolved.version.name}'` : 'a logged model'}${resolved.modelId ? ` (logged model ${resolved.modelId})` : ''}`;
    const cacheRoot = options.cacheRoot ?? MODEL_CACHE;
    const dir = join(cacheRoot, id);
    if (
      await stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      )
    )
      return { dir, description, downloaded: false };
    await mkdir(cacheRoot, { recursive: true });
    const staging = join(cacheRoot, `.${id}.partial-${process.pid}`);
    await rm(staging, { recursive: true, force: true });
    try {
      const files = await new ArtifactProxy(registry.transport).downloadTree(root, staging);
      if (!files.length) throw fail(`'${resolved.artifactUri}' holds no files`);
      await rename(staging, dir).catch(async (error: NodeJS.ErrnoException) => {
        // another process put the same model there first: its copy is as good
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
        await rm(staging, { recursive: true, force: true });
      });
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error instanceof MlflowError ? fail(error.message) : error;
    }
    return { dir, description, downloaded: true };
  } finally {
    await registry.close();
  }
}
