/**
 * Artifacts through a tracking server's proxy (`mlflow server` with `--serve-artifacts`, the default
 * since 2.0), on the shared transport: a run's artifacts and a logged model's alike live under an
 * `mlflow-artifacts:/…` URI — `mlflow-artifacts:/<exp>/<run>/artifacts`,
 * `mlflow-artifacts:/<exp>/models/<model_id>/artifacts` — which the server serves at
 *
 *   PUT/GET /api/2.0/mlflow-artifacts/artifacts/<path under the URI>
 *   GET     /api/2.0/mlflow-artifacts/artifacts?path=<folder>         (listing)
 *
 * as MLflow's `MlflowArtifactsRepository` / `HttpArtifactRepository` use them. A missing file is the
 * server's 500 "No such file or directory", turned into `MlflowResourceNotFoundError` here.
 *
 * @example
 * ```ts
 * const proxy = new ArtifactProxy(transport);
 * const root = proxyRoot('mlflow-artifacts:/1/models/m-ab12/artifacts')!; // '1/models/m-ab12/artifacts'
 * await proxy.upload(root, 'MLmodel', text);
 * await proxy.downloadTree(root, './downloaded');   // every file, folders recreated
 * ```
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { writeFileAtomic } from '@cfa/io';
import type { ArtifactInfo } from './entities';
import { MlflowInvalidParameterError } from './errors';
import type { RestTransport } from './rest-transport';
import { artifactFromWire } from './wire-format';

const PROXY = '/api/2.0/mlflow-artifacts/artifacts';

/** Where an artifact URI is served by the proxy (its path below the proxy root), or undefined when it is not proxied. */
export function proxyRoot(uri: string): string | undefined {
  const marker = `${PROXY}/`;
  if (uri.startsWith('mlflow-artifacts:')) return new URL(uri).pathname.replace(/^\/+|\/+$/g, '');
  if (/^https?:/.test(uri) && uri.includes(marker))
    return uri.slice(uri.indexOf(marker) + marker.length).replace(/\/+$/, '');
  return undefined;
}

/** A relative artifact path, '/'-joined and without '.' parts; one that climbs out ('..') is refused. */
export function relativeArtifactPath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..'))
    throw new MlflowInvalidParameterError(
      `Invalid artifact path: '${path}' leaves the artifact root`,
      'INVALID_PARAMETER_VALUE',
    );
  return parts.join('/');
}

const encode = (path: string) => path.split('/').map(encodeURIComponent).join('/');

export class ArtifactProxy {
  constructor(private readonly transport: RestTransport) {}

  async upload(root: string, path: string, content: Uint8Array | string): Promise<void> {
    const rel = relativeArtifactPath(path);
    if (!rel) throw new MlflowInvalidParameterError('artifact path must name a file', 'INVALID_PARAMETER_VALUE');
    await this.transport.call('PUT', `${PROXY}/${encode(`${root}/${rel}`)}`, { body: content, raw: true });
  }

  /** The entries directly under `path`, their paths relative to `root`. */
  async list(root: string, path = ''): Promise<ArtifactInfo[]> {
    const rel = relativeArtifactPath(path);
    const out = (await this.transport.call('GET', PROXY, { query: { path: rel ? `${root}/${rel}` : root } })) as {
      files?: unknown[];
    };
    return (out.files ?? []).map((f) => artifactFromWire(f, rel)).sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  async download(root: string, path: string): Promise<Buffer> {
    const rel = relativeArtifactPath(path);
    return (await this.transport.call('GET', `${PROXY}/${encode(`${root}/${rel}`)}`, {
      raw: true,
      artifactDownload: true,
    })) as Buffer;
  }

  /** Every file under `root` (recursively), relative to it. */
  async files(root: string, path = ''): Promise<ArtifactInfo[]> {
    const out: ArtifactInfo[] = [];
    for (const entry of await this.list(root, path)) {
      if (entry.isDir) out.push(...(await this.files(root, entry.path)));
      else out.push(entry);
    }
    return out;
  }

  /** Downloads every file under `root` into `dir` (folders recreated, each file written atomically); returns their paths. */
  async downloadTree(root: string, dir: string): Promise<string[]> {
    const base = resolve(dir);
    const written: string[] = [];
    for (const file of await this.files(root)) {
      const target = resolve(base, ...file.path.split('/'));
      // the server names the files: none may land outside the folder asked for
      if (!target.startsWith(base + sep))
        throw new MlflowInvalidParameterError(`artifact '${file.path}' leaves ${dir}`, 'INVALID_PARAMETER_VALUE');
      await mkdir(dirname(target), { recursive: true });
      await writeFileAtomic(target, await this.download(root, file.path));
      written.push(join(dir, file.path));
    }
    return written;
  }
}
