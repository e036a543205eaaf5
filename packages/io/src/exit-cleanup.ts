/**
 * Temp files and staging folders that must not outlive their process, whichever way it ends: an
 * error (the writer's own `finally`), `process.exit`, or a signal (Ctrl-C, `kill`, a closed
 * terminal). A registered path is removed synchronously on the process's `exit` event and on
 * SIGINT / SIGTERM / SIGHUP; a temp file left by an interrupt would otherwise sit inside a model
 * folder and be uploaded with it by the next tracked run.
 *
 * Signals: while something is registered this module listens for them. When it is the only
 * listener it removes the paths and raises the signal again with no listener left, so the process
 * ends as it would have (killed by the signal; tsx turns that into exit 128 + n). When the program
 * has its own handler (a queue worker finishes its cells on Ctrl-C) that handler decides when the
 * process ends, and the paths are removed on `exit`: deleting a staging folder under a cell that is
 * still being finished would break it.
 *
 * @example
 * ```ts
 * const forget = removeOnExit(tmp);
 * try { await write(tmp); await rename(tmp, target); } finally { forget(); }
 * ```
 */
import { rmSync } from 'node:fs';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const registered = new Map<string, number>();
let listening = false;

function removeAll(): void {
  for (const path of registered.keys()) {
    try {
      rmSync(path, { recursive: true, force: true });
    } catch {
      // best effort on the way out: nothing can be reported any more
    }
  }
  registered.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // another handler owns the exit (it may still need the files); `exit` removes them
  if (process.listenerCount(signal) > 1) return;
  removeAll();
  stopListening();
  process.kill(process.pid, signal);
}

function startListening(): void {
  if (listening) return;
  listening = true;
  process.on('exit', removeAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function stopListening(): void {
  if (!listening) return;
  listening = false;
  process.removeListener('exit', removeAll);
  for (const s of SIGNALS) process.removeListener(s, onSignal);
}

/**
 * Registers `path` (a file or folder) for removal if the process ends before the returned function
 * is called; calling it unregisters (the path was renamed into place, or removed by its owner).
 */
export function removeOnExit(path: string): () => void {
  registered.set(path, (registered.get(path) ?? 0) + 1);
  startListening();
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const left = (registered.get(path) ?? 1) - 1;
    if (left > 0) registered.set(path, left);
    else registered.delete(path);
    if (registered.size === 0) stopListening();
  };
}

/** Paths registered now (tests). */
export function pathsRemovedOnExit(): string[] {
  return [...registered.keys()];
}
