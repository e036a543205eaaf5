/**
 * The `cfa` command run in this process (no tsx start-up: a second instead of several), with what
 * it prints captured: stdout, stderr (log lines, `error: …`) and the exit code, as a user sees
 * them. Commander's usage errors are kept from exiting the test process.
 */
import type { Command } from 'commander';
import { cfaProgram, runCfa } from '../cli/program';

export interface InProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

function noExit(command: Command): void {
  command.exitOverride();
  command.commands.forEach(noExit);
}

/** One run at a time: stdout and stderr are this process's. */
export async function runCfaInProcess(args: string[], env: Record<string, string> = {}): Promise<InProcessRun> {
  const program = cfaProgram();
  noExit(program);
  let stdout = '',
    stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const saved = {
    exitCode: process.exitCode,
    env: Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]])),
  };
  process.stdout.write = ((chunk: string | Uint8Array) => (
    (stdout += String(chunk)),
    true
  )) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (
    (stderr += String(chunk)),
    true
  )) as typeof process.stderr.write;
  Object.assign(process.env, env);
  process.exitCode = 0;
  try {
    await runCfa(args, program);
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = saved.exitCode;
    for (const [k, v] of Object.entries(saved.env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
