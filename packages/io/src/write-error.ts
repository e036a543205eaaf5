/**
 * A failed write that names what the user asked to write, not the temp file it went through, with
 * the system's reason in words: Node's `ENOSPC: no space left on device, write` names no path at
 * all, and a failed rename names the hidden temp file. `code` stays the errno code, so callers can
 * still tell a full disk from a permission problem.
 *
 * @example
 * ```ts
 * try { await handle.writeFile(bytes); } catch (e) { throw WriteError.of('runs/x/model.onnx', e); }
 * // runs/x/model.onnx: cannot write: no space left on the device (ENOSPC)
 * ```
 */
const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  ENOENT: 'its folder does not exist',
  EMFILE: 'too many open files',
  EIO: 'an input/output error (a failing disk or network mount?)',
};

export class WriteError extends Error {
  constructor(
    readonly path: string,
    readonly code: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WriteError';
  }

  /** `error` as a WriteError naming `path` (one already naming a path is kept). */
  static of(path: string, error: unknown): WriteError {
    if (error instanceof WriteError) return error;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const reason = code ? `${REASONS[code] ?? (error as Error).message.split(',')[0]} (${code})` : String(error);
    return new WriteError(path, code, `${path}: cannot write: ${reason}`, { cause: error });
  }
}

/** Whether a write failed for lack of space (ENOSPC, EDQUOT): the user must free some before anything is retried. */
export function isNoSpaceError(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
