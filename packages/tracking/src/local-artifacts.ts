/**
 * Artifacts in a local folder, the file store's way: a run's (`<run>/artifacts`) and a logged
 * model's (`<experiment artifacts>/models/<model_id>/artifacts`) alike. The folder comes from the
 * owner's artifact URI, which must be a local path or `file:` URI; a path that leaves the folder is
 * refused; files are written atomically.
 *
 * @example
 * ```ts
 * const base = localArtifactFolder(run.info.artifactUri, `run ${runId}`);
 * await writeLocalArtifact(base, 'plots/roc.png', png);
 * await listLocalArtifacts(base, 'plots'); // [{ path: 'plots/roc.png', isDir: false, fileSize: … }]
 * ```
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '@cfa/io';
import type { ArtifactInfo } from './entities';
import { MlflowError, MlflowInvalidParameterError, MlflowResourceNotFoundError } from './errors';

/** The local folder behind an artifact URI; `owner` names the run or model for the message when it is not local. */
export function localArtifactFolder(uri: string, owner: string): string {
  if (uri.startsWith('file:')) return fileURLToPath(uri);
  if (uri.startsWith('/')) return uri;
  throw new MlflowError(
    `${owner} keeps its artifacts at '${uri}', which is not a local folder; this store reads and writes local artifacts only`,
    'NOT_IMPLEMENTED',
  );
}

/** A file under `base`; a path that leaves it is `MlflowInvalidParameterError`. */
export function localArtifactPath(base: string, path: string): string {
  const full = resolve(base, path);
  if (full !== base && !full.startsWith(base + sep))
    throw new MlflowInvalidParameterError(
      `Invalid artifact path: '${path}' leaves the artifact folder`,
      'INVALID_PARAMETER_VALUE',
    );
  return full;
}

export async function writeLocalArtifact(
  base: string,
  path: string,
  content: Uint8Array | string,
  tempDir?: string,
): Promise<void> {
  const full = localArtifactPath(base, path);
  if (full === resolve(base))
    throw new MlflowInvalidParameterError('artifact path must name a file', 'INVALID_PARAMETER_VALUE');
  await writeFileAtomic(full, content, tempDir ? { tempDir } : {});
}

/** The entries directly under `path`, their paths relative to `base`. */
export async function listLocalArtifacts(base: string, path = ''): Promise<ArtifactInfo[]> {
  const dir = localArtifactPath(base, path);
  const prefix = path.replace(/^\/+|\/+$/g, '');
  const out: ArtifactInfo[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    out.push(
      e.isDirectory()
        ? { path: rel, isDir: true }
        : { path: rel, isDir: false, fileSize: (await stat(join(dir, e.name))).size },
    );
  }
  return out;
}

export async function readLocalArtifact(base: string, path: string, owner: string): Promise<Buffer> {
  const full = localArtifactPath(base, path);
  try {
    return await readFile(full);
  } catch {
    throw new MlflowResourceNotFoundError(
      `artifact '${path}' of ${owner} does not exist (looked for ${full})`,
      'RESOURCE_DOES_NOT_EXIST',
    );
  }
}
