import { spawn } from 'node:child_process';

/** Another live process (a `sleep`), to stand for a lock holder that is not the test. */
export async function liveProcess(): Promise<{ pid: number; stop: () => void }> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  return { pid: child.pid!, stop: () => child.kill('SIGKILL') };
}
