/**
 * @cfa/io/testing — helpers for tests of the lock and its users, apart from the production entry.
 *
 * - `liveProcess`: another live process (a `sleep`), to stand for a lock holder that is not the test.
 */
import { spawn } from 'node:child_process';

export async function liveProcess(): Promise<{ pid: number; stop: () => void }> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  return { pid: child.pid!, stop: () => child.kill('SIGKILL') };
}
