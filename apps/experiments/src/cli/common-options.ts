/**
 * Options every command shares: engine and backend selection, threads, and the overrides of a
 * run's config that researchers reach for on the command line.
 */
import { type Command, Option } from 'commander';
import { ENGINE_NAMES, TF_BACKEND_CHAIN } from '@cfa/tensor-runtime';

export function addEngineOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--engine <name>', 'compute engine: ONNX Runtime (fast CPU path) or TensorFlow.js')
        .choices([...ENGINE_NAMES])
        .env('CFA_ENGINE')
        .default('auto'),
    )
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend (default: first that loads of the chain)')
        .choices([...TF_BACKEND_CHAIN])
        .env('CFA_TF_BACKEND'),
    )
    .addOption(
      new Option('--threads <n>', 'ONNX Runtime intra-op threads (default: all cores)')
        .env('CFA_THREADS')
        .argParser(positiveInt),
    );
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive integer, got '${value}'`);
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a non-negative integer, got '${value}'`);
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new Error(`expected a positive number, got '${value}'`);
  return n;
}
