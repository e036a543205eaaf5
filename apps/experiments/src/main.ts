#!/usr/bin/env -S npx tsx
/**
 * The `cfa` command: `train-eval` for one category, `predict` and `export` with a saved model,
 * sweeps that reproduce the paper's tables, benchmarks, and queue workers. Run through Nx (`nx run experiments:train-eval -- --help`) or
 * directly (`npx tsx apps/experiments/src/main.ts --help`).
 */
import { runCfa } from './cli/program';

await runCfa(process.argv.slice(2));
