/**
 * Which code computed a number: a hash of the sources whose change can change a result — the
 * pipeline packages (tensor-runtime, data, backbone, descriptor, memory-bank, scoring, cfa,
 * metrics; `*.ts` under `src/`, tests and test helpers left out) and this app's run code
 * (`apps/experiments/src/run`) — plus the installed versions of the libraries that compute
 * (onnxruntime-node, TensorFlow.js, sharp). Docs, tests, reports, tracking and the CLI are not in
 * it, so editing them keeps finished cells valid; any edit of a file that computes does not.
 *
 * A resumed sweep counts a cell as finished only when its run carries the same hash
 * (`cfa.code.hash`); the comparison table says which hash each number came from.
 *
 * @example
 * ```ts
 * const code = await codeVersion();   // { hash: '3f9c0a1e5b7d2c48', files: 131 }
 * ```
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: four levels above this file (apps/experiments/src/tracking). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Folders whose TypeScript sources compute results. */
export const RESULT_SOURCE_DIRS = [
  ...[
    'tensor-runtime',
    'data',
    'backbone',
    'descriptor',
    'memory-bank',
    'scoring',
    'method-kit',
    'cfa',
    'padim',
    'patchcore',
    'fyd',
    'metrics',
  ].map((p) => `packages/${p}/src`),
  'apps/experiments/src/run',
];

/** Libraries whose version can change a number. */
export const RESULT_LIBRARIES = [
  'onnxruntime-node',
  'onnxruntime-common',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-backend-wasm',
  'sharp',
];

const isResultSource = (path: string) =>
  path.endsWith('.ts') &&
  !path.endsWith('.spec.ts') &&
  !path.split(sep).some((part) => part === 'testing' || part === '__fixtures__');

export interface CodeVersion {
  /** 16 hex characters. */
  hash: string;
  /** How many source files went into it. */
  files: number;
}

async function libraryVersion(name: string, root: string): Promise<string> {
  try {
    const require = createRequire(join(root, 'package.json'));
    const pkg = JSON.parse(await readFile(require.resolve(`${name}/package.json`), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'absent';
  }
}

const cache = new Map<string, Promise<CodeVersion>>();

/** The code version of the checkout at `root` (computed once per process). */
export function codeVersion(root = REPO_ROOT): Promise<CodeVersion> {
  let pending = cache.get(root);
  if (!pending) {
    pending = (async () => {
      const hash = createHash('sha256');
      let files = 0;
      for (const dir of RESULT_SOURCE_DIRS) {
        const names = (await readdir(join(root, dir), { recursive: true }).catch(() => [] as string[]))
          .filter(isResultSource)
          .sort();
        for (const name of names) {
          const path = join(dir, name);
          hash.update(`${relative(root, join(root, path)).split(sep).join('/')}\0`);
          hash.update(await readFile(join(root, path)));
          hash.update('\0');
          files++;
        }
      }
      for (const lib of RESULT_LIBRARIES) hash.update(`${lib}@${await libraryVersion(lib, root)}\0`);
      return { hash: hash.digest('hex').slice(0, 16), files };
    })();
    cache.set(root, pending);
  }
  return pending;
}
