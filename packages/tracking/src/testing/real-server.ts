/**
 * Starts the real MLflow server (../shared/mlflow-server/serve.sh, or `MLFLOW_SERVE_SCRIPT`) on a
 * store for a test, on a free loopback port. Returns undefined, with the reason, when the script
 * is not there — tests then skip and say why.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function findServeScript(): { script?: string; reason?: string } {
  const fromEnv = process.env.MLFLOW_SERVE_SCRIPT;
  if (fromEnv) return existsSync(fromEnv) ? { script: fromEnv } : { reason: `MLFLOW_SERVE_SCRIPT=${fromEnv} does not exist` };
  const repoRoot = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
  const candidate = resolve(repoRoot, '..', 'shared', 'mlflow-server', 'serve.sh');
  return existsSync(candidate) ? { script: candidate } : { reason: `no MLflow server script (looked for ${candidate}; set MLFLOW_SERVE_SCRIPT)` };
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePort(port));
    });
  });
}

export interface RealServer {
  url: string;
  stop(): Promise<void>;
}

export async function startRealMlflow(script: string, store: string, port?: number): Promise<RealServer> {
  const p = port ?? (await freePort());
  const { stdout } = await run('bash', [script, 'start', store, String(p)], { timeout: 600_000, env: { ...process.env, ARTIFACTS_DIR: `${store}-artifacts` } });
  const url = stdout.trim().split('\n').at(-1)!;
  return { url, stop: async () => void (await run('bash', [script, 'stop', String(p)], { timeout: 60_000 }).catch(() => undefined)) };
}
