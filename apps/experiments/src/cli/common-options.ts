/**
 * Options every command shares: engine and backend selection, threads, and the overrides of a
 * run's config that researchers reach for on the command line.
 */
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import {
  describeEngine,
  ENGINE_NAMES,
  type EngineSelection,
  selectEngine,
  TF_BACKEND_CHAIN,
} from '@cfa/tensor-runtime';
import type { Logger } from './logger';

/** What `addEngineOptions` adds to a command's options. */
export interface EngineOptions {
  engine: string;
  backend?: string;
  threads?: number;
}

/** The engine the options ask for, named in the log (which engine and backend ran matters for every number). */
export async function engineFromOptions(options: EngineOptions, log: Logger): Promise<EngineSelection> {
  const engine = await selectEngine({
    requested: options.engine,
    tfBackend: options.backend,
    threads: options.threads,
  });
  log.info(describeEngine(engine));
  return engine;
}

/** `runs/<kind>/<UTC time>[-<suffix>]`: a default output folder that sorts by time and never collides. */
export function timestampedRunDir(kind: string, suffix?: string): string {
  const time = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return join('runs', kind, suffix ? `${time}-${suffix}` : time);
}

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
