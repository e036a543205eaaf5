#!/usr/bin/env -S npx tsx
/**
 * The `cfa` command: `train-eval` for one category, `predict` and `export` with a saved model,
 * sweeps that reproduce the paper's tables, benchmarks, and queue workers. Run through Nx (`nx run experiments:train-eval -- --help`) or
 * directly (`npx tsx apps/experiments/src/main.ts --help`).
 */
import { Command } from 'commander';
import { trainEvalCommand } from './cli/train-eval';
import { sweepCommand } from './cli/sweep';
import { workerCommand } from './cli/worker';
import { syncRunsCommand } from './cli/sync-runs';
import { benchCommand } from './cli/bench';
import { fidelityCommand } from './cli/fidelity';
import { predictCommand } from './cli/predict';
import { exportCommand } from './cli/export';

const program = new Command('cfa')
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

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  if (process.env.CFA_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
});
