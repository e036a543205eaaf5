/**
 * Downloads a standard weight file into the cache (`~/.cache/cfa/weights`, or `CFA_WEIGHTS_DIR`):
 * resumes an interrupted download from its `.part` file with an HTTP Range request, shows a progress
 * bar, checks the sha256 against the hash in the file name, and renames into place only when it
 * matches — so the cache never holds a wrong or half file. `fromFile` does the same for a file
 * brought by hand (machines without internet).
 *
 * @example
 * ```ts
 * const path = await fetchWeights({ backbone: 'resnet18' }); // ~/.cache/cfa/weights/resnet18-f37072fd.pth
 * ```
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Agent, interceptors, request } from 'undici';
import { WEIGHT_SOURCES, type WeightSource } from './weight-registry';

export function defaultWeightsDir(): string {
  return process.env.CFA_WEIGHTS_DIR ?? join(homedir(), '.cache', 'cfa', 'weights');
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export class ChecksumError extends Error {
  constructor(file: string, expectedPrefix: string, actual: string) {
    super(
      `${file}: sha256 ${actual} does not start with ${expectedPrefix}, as its name says it must: corrupt or wrong file (removed)`,
    );
    this.name = 'ChecksumError';
  }
}

export interface FetchOptions {
  backbone: string;
  cacheDir?: string;
  /** Use this local file instead of downloading. */
  fromFile?: string;
  /** Override the source (tests, mirrors). */
  source?: WeightSource;
  onProgress?: (received: number, total: number | undefined) => void;
  /** Attempts, each resuming from what is already in the `.part` file. */
  attempts?: number;
  log?: (line: string) => void;
}

export function weightSource(backbone: string): WeightSource {
  const s = WEIGHT_SOURCES[backbone];
  if (!s)
    throw new Error(`no standard weights for '${backbone}': expected one of ${Object.keys(WEIGHT_SOURCES).join(', ')}`);
  return s;
}

async function sizeOf(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => 0,
  );
}

// download.pytorch.org answers through redirects
const dispatcher = new Agent().compose(interceptors.redirect({ maxRedirections: 5 }));

/** One HTTP attempt, appending to `part` from its current size. */
async function downloadOnce(url: string, part: string, onProgress?: FetchOptions['onProgress']): Promise<void> {
  const have = await sizeOf(part);
  const res = await request(url, {
    headers: have ? { range: `bytes=${have}-` } : {},
    headersTimeout: 30_000,
    bodyTimeout: 60_000,
    dispatcher,
  });
  if (res.statusCode === 416) {
    await res.body.dump();
    return; // nothing left to fetch
  }
  if (res.statusCode !== 200 && res.statusCode !== 206) {
    await res.body.dump();
    throw new Error(`${url}: HTTP ${res.statusCode}`);
  }
  const resumed = res.statusCode === 206;
  const length = Number(res.headers['content-length'] ?? NaN);
  const total = Number.isFinite(length) ? (resumed ? have + length : length) : undefined;
  let received = resumed ? have : 0;
  const out = createWriteStream(part, { flags: resumed ? 'a' : 'w' });
  res.body.on('data', (chunk: Buffer) => {
    received += chunk.length;
    onProgress?.(received, total);
  });
  await pipeline(res.body, out);
  if (total !== undefined && received < total)
    throw new Error(`${url}: transfer ended at ${received} of ${total} bytes`);
}

export async function fetchWeights(options: FetchOptions): Promise<string> {
  const src = options.source ?? weightSource(options.backbone);
  const dir = options.cacheDir ?? defaultWeightsDir();
  await mkdir(dir, { recursive: true });
  const target = join(dir, src.file);
  if ((await sizeOf(target)) > 0) {
    options.log?.(`${src.file} already in ${dir}`);
    return target;
  }
  const part = `${target}.part`;
  if (options.fromFile) {
    const digest = await sha256Of(options.fromFile);
    if (!digest.startsWith(src.sha256Prefix)) throw new ChecksumError(options.fromFile, src.sha256Prefix, digest);
    await copyFile(options.fromFile, part);
  } else {
    const attempts = options.attempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        await downloadOnce(src.url, part, options.onProgress);
        break;
      } catch (error) {
        if (attempt >= attempts)
          throw new Error(
            `${src.url}: download failed after ${attempts} attempts (${(error as Error).message}); the partial file ${part} is kept and the next run resumes it`,
          );
        options.log?.(
          `attempt ${attempt} stopped (${(error as Error).message}); resuming from ${await sizeOf(part)} bytes`,
        );
        await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** attempt)));
      }
    }
    const digest = await sha256Of(part);
    if (!digest.startsWith(src.sha256Prefix)) {
      await unlink(part);
      throw new ChecksumError(basename(src.url), src.sha256Prefix, digest);
    }
  }
  await rename(part, target);
  return target;
}
