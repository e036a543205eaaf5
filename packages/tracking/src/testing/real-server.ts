/**
 * The real MLflow server for tests that need it, through the project's `serve.sh` (MLflow 3.6 with
 * its web UI, see ../shared/mlflow-server/README.md). Where to find the script: `MLFLOW_SERVE_SCRIPT`,
 * else `../shared/mlflow-server/serve.sh` beside the repository root. When neither exists the
 * tests skip and print `reason`. Users elsewhere run the same server with
 * `pip install mlflow && mlflow server --port 5000`.
 *
 * @example
 * ```ts
 * const { script, reason } = findServeScript();
 * if (!script) console.log(`skipped: ${reason}`);
 * const server = await startRealMlflow(script!, '/tmp/x/mlruns');   // a free port
 * const store = new RestTrackingStore({ uri: server.url });
 * await server.stop();
 * ```
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root: four levels above this file (packages/tracking/src/testing). */
const REPO_ROOT = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));

export function findServeScript(env: NodeJS.ProcessEnv = process.env): { script?: string; reason?: string } {
  const fromEnv = env.MLFLOW_SERVE_SCRIPT;
  if (fromEnv)
    return existsSync(fromEnv)
      ? { script: resolve(fromEnv) }
      : { reason: `MLFLOW_SERVE_SCRIPT=${fromEnv} does not exist` };
  const candidate = resolve(REPO_ROOT, '..', 'shared', 'mlflow-server', 'serve.sh');
  return existsSync(candidate)
    ? { script: candidate }
    : { reason: `no MLflow server script: MLFLOW_SERVE_SCRIPT is not set and ${candidate} does not exist` };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
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
  port: number;
  /** The `--backend-store-uri` folder (or sqlite URI) it serves. */
  store: string;
  stop(): Promise<void>;
}

/** MLflow's basic-auth admin as serve.sh configures it (`MLFLOW_AUTH=1`). */
export const REAL_SERVER_ADMIN = { username: 'admin', password: 'password1234' } as const;

/**
 * Starts MLflow on `store` (a file-store folder or a sqlite:/// URI) and waits for /health; with
 * `auth`, MLflow's basic-auth app (`REAL_SERVER_ADMIN`; new users get READ on others' experiments).
 * Proxied artifacts go to `<store>-artifacts` (`<db file without .db>-artifacts` for SQLite). The first start on a machine installs Debian
 * packages (1–3 minutes); later ones take ~15 s.
 */
export async function startRealMlflow(
  script: string,
  store: string,
  port?: number,
  options: { auth?: boolean } = {},
): Promise<RealServer> {
  const p = port ?? (await freePort());
  // proxied artifacts beside the store (a sqlite:////abs/x.db URI: beside the database file)
  const artifacts = store.startsWith('sqlite:')
    ? `${store.replace(/^sqlite:\/\//, '').replace(/\.db$/, '')}-artifacts`
    : `${resolve(store)}-artifacts`;
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [script, 'start', store, String(p)], {
      timeout: 600_000,
      env: { ...process.env, ARTIFACTS_DIR: artifacts, ...(options.auth ? { MLFLOW_AUTH: '1' } : {}) },
    }));
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(
      `${script} start ${store} ${p} failed: ${e.stderr?.trim().split('\n').slice(-15).join('\n') || e.message}`,
    );
  }
  const url = stdout.trim().split('\n').at(-1)!;
  return {
    url,
    port: p,
    store,
    stop: async () => void (await run('bash', [script, 'stop', String(p)], { timeout: 60_000 }).catch(() => undefined)),
  };
}
