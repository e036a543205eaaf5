/**
 * A real `redis-server` for tests, on a free loopback port, with append-only persistence in a temp
 * folder (so a restart keeps the queue). Absent binary → undefined, and the tests say they skipped.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@cfa/tracking/testing';
import { waitFor } from './cli-process';

export function redisAvailable(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface TestRedis {
  url: string;
  port: number;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'redis-'));
  let port = await freePort();
  let proc: ChildProcess;
  /**
   * Starts redis-server and waits until it is the one answering on the port: another test may
   * have taken the same "free" port a moment earlier (its redis would answer our pings), so the
   * answer's process_id must be ours; if ours could not bind, try another port.
   */
  const launch = async (portIsFixed: boolean) => {
    for (let tries = 0; ; tries++) {
      proc = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
        { stdio: 'ignore' },
      );
      const started = proc;
      const ours = await waitFor(
        'redis to answer',
        async () => {
          if (started.exitCode !== null) return 'exited';
          const info = execFileSync('redis-cli', ['-p', String(port), 'info', 'server'], { encoding: 'utf8' });
          return info.includes(`process_id:${started.pid}\r`) ? 'ours' : false;
        },
        20_000,
        100,
      );
      if (ours === 'ours') return;
      if (portIsFixed || tries >= 5) throw new Error(`redis-server could not listen on port ${port}`);
      port = await freePort();
    }
  };
  const stop = async () => {
    if (!proc || proc.exitCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await gone;
  };
  await launch(false);
  return {
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    restart: async () => {
      await stop();
      // a restart keeps the port: clients reconnect to it
      await launch(true);
    },
    stop,
  };
}
