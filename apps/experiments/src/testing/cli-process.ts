/**
 * The `cfa` command as a real child process, for end-to-end tests (kill -9 needs a real process).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const TSX = `${REPO_ROOT}node_modules/.bin/tsx`;
const MAIN = `${REPO_ROOT}apps/experiments/src/main.ts`;

export interface CliProcess {
  child: ChildProcess;
  /** SIGKILL to the whole process group (tsx runs the program in a child node process). */
  kill9(): void;
  /** SIGSTOP / SIGCONT to the whole process group: a stopped worker writes nothing. */
  pause(): void;
  resume(): void;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * The `cfa` command as users run it: `npx cfa …` from the repository root (the package's bin),
 * which returns the command's own exit code (Nx turns every failure into 1).
 */
export function startNpxCfa(args: string[], env: Record<string, string> = {}): CliProcess {
  return startCli(args, env, ['npx', 'cfa']);
}

export async function runNpxCfa(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const p = startNpxCfa(args, env);
  const code = await p.exited;
  return { code, output: p.output() };
}

export function startCli(args: string[], env: Record<string, string> = {}, command = [TSX, MAIN]): CliProcess {
  const child = spawn(command[0], [...command.slice(1), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, CFA_THREADS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const signal = (name: NodeJS.Signals) => () => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // already gone
    }
  };
  return {
    child,
    kill9: signal('SIGKILL'),
    pause: signal('SIGSTOP'),
    resume: signal('SIGCONT'),
    output: () => out,
    exited,
  };
}

export async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const p = startCli(args, env);
  const code = await p.exited;
  return { code, output: p.output() };
}

/** Polls `check` until it returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 120_000,
  everyMs = 250,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
