/**
 * The `cfa` command line: its subcommands, and how a run of it ends — an error is printed as
 * `error: <message>` (what the user sees; `CFA_DEBUG=1` adds the stack) and the exit code is 1.
 * `main.ts` runs it on `process.argv`; tests run it in process with the same output.
 */
import { Command } from 'commander';
import { trainEvalCommand } from './train-eval';
import { sweepCommand } from './sweep';
import { workerCommand } from './worker';
import { syncRunsCommand } from './sync-runs';
import { benchCommand } from './bench';
import { fidelityCommand } from './fidelity';
import { predictCommand } from './predict';
import { exportCommand } from './export';

export function cfaProgram(): Command {
  return new Command('cfa')
    .description('CFA (Lee et al. 2022) experiments: train, evaluate, predict, export, sweep, benchmark')
    .showHelpAfterError()
    .addCommand(trainEvalCommand())
    .addCommand(predictCommand())
    .addCommand(exportCommand())
    .addCommand(sweepCommand())
    .addCommand(workerCommand())
    .addCommand(syncRunsCommand())
    .addCommand(benchCommand())
    .addCommand(fidelityCommand());
}

/** Runs `cfa <args…>`; the outcome is in `process.exitCode`. */
export async function runCfa(args: string[], program = cfaProgram()): Promise<void> {
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error: unknown) {
    // commander has printed its own usage errors already (they carry an exitCode)
    // a child process's error carries its exit status as a numeric `code`: only commander's are strings
    const code = (error as { code?: unknown }).code;
    const commanderExit = typeof code === 'string' && code.startsWith('commander.');
    if (!commanderExit) {
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      if (process.env.CFA_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    }
    process.exitCode = commanderExit ? ((error as { exitCode?: number }).exitCode ?? 1) : 1;
  }
}
