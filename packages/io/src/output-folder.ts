/**
 * Whether a folder can receive a run's outputs, checked before the run starts and without creating
 * anything (a `--dry-run` checks it too): the path is a folder or can become one — no part of it is
 * a file — and the nearest existing folder on it is writable. A bad `--out` is then found in
 * seconds, not after training, when the results would be lost.
 *
 * @example
 * ```ts
 * await checkOutputFolder('runs/train-eval/2024-01-01-weave', '--out'); // throws if runs/ is a file
 * ```
 */
import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';

export class OutputFolderError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'OutputFolderError';
  }
}

export async function checkOutputFolder(path: string, what: string): Promise<void> {
  const target = resolve(path);
  for (let at = target; ; at = dirname(at)) {
    const found = await stat(at).catch((error: NodeJS.ErrnoException) => {
      // ENOTDIR: a part above is a file, found as the walk goes up
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw new OutputFolderError(path, `${what} ${path}: cannot be used (${error.code ?? error.message} at ${at})`);
    });
    if (!found) {
      if (dirname(at) === at) break;
      continue;
    }
    if (!found.isDirectory())
      throw new OutputFolderError(
        path,
        at === target
          ? `${what} ${path}: is a file, expected a folder for the outputs`
          : `${what} ${path}: ${at} is a file, so the folder cannot be created`,
      );
    await access(at, constants.W_OK).catch(() => {
      throw new OutputFolderError(path, `${what} ${path}: ${at} is not writable`);
    });
    return;
  }
}

/** `path` with symlinks resolved as far as it exists (the rest appended), for comparing folders. */
async function realPath(path: string): Promise<string> {
  const target = resolve(path);
  for (let at = target; ; at = dirname(at)) {
    const real = await realpath(at).catch(() => undefined);
    if (real !== undefined) return join(real, relative(at, target));
    if (dirname(at) === at) return target;
  }
}

const within = (inner: string, outer: string) => {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/**
 * Refuses an output folder that is, or lies inside, a folder the command reads (the model, its run
 * folder, the images), or that holds one: its outputs replace the whole folder, so it would destroy
 * what it reads — or the next run would read its own outputs as input. Symlinks are followed.
 */
export async function checkOutputApart(
  out: { what: string; path: string },
  inputs: readonly { what: string; path: string }[],
): Promise<void> {
  const o = await realPath(out.path);
  for (const input of inputs) {
    const i = await realPath(input.path);
    if (within(o, i))
      throw new OutputFolderError(
        out.path,
        `${out.what} ${out.path}: ${o === i ? 'is' : 'lies inside'} ${input.what} ${input.path}, which this command reads: put the outputs outside it (a folder of outputs is replaced whole)`,
      );
    if (within(i, o))
      throw new OutputFolderError(
        out.path,
        `${out.what} ${out.path}: holds ${input.what} ${input.path}, which this command reads: put the outputs outside it (a folder of outputs is replaced whole)`,
      );
  }
}
