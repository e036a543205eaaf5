/**
 * TensorFlow.js backend selection.
 *
 * The native backends (`@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node`) are optional
 * dependencies: their install step downloads a binary, which fails on machines without internet,
 * and npm then leaves them out. So the chain is tried at run time, first that loads wins:
 * tfjs-node-gpu → tfjs-node → wasm → cpu.
 *
 * @example
 * ```ts
 * const { backend, attempts } = await selectTfBackend({ preferred: process.env.CFA_TF_BACKEND });
 * console.log(`TensorFlow.js backend: ${backend}`);
 * ```
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

export const TF_BACKEND_CHAIN = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type TfBackendName = (typeof TF_BACKEND_CHAIN)[number];

/** Environment variable that overrides the chain (same values as `--backend`). */
export const TF_BACKEND_ENV = 'CFA_TF_BACKEND';

export interface TfBackendAttempt {
  name: TfBackendName;
  ok: boolean;
  error?: string;
}

export interface TfBackendSelection {
  /** The chain entry that loaded. */
  backend: TfBackendName;
  /** tfjs's own backend id (`tensorflow`, `wasm`, `cpu`). */
  tfBackendId: string;
  attempts: TfBackendAttempt[];
}

const require = createRequire(import.meta.url);

/** tfjs registers native backends under the id `tensorflow`; the others under their own names. */
const TFJS_ID: Record<TfBackendName, string> = {
  'tfjs-node-gpu': 'tensorflow',
  'tfjs-node': 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

async function tryLoad(name: TfBackendName): Promise<void> {
  switch (name) {
    case 'tfjs-node-gpu':
      require('@tensorflow/tfjs-node-gpu');
      break;
    case 'tfjs-node':
      require('@tensorflow/tfjs-node');
      break;
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      break;
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      break;
  }
  const ok = await tf.setBackend(TFJS_ID[name]);
  if (!ok) throw new Error(`tf.setBackend('${TFJS_ID[name]}') returned false`);
  await tf.ready();
}

export function parseTfBackendName(value: string, source: string): TfBackendName {
  if ((TF_BACKEND_CHAIN as readonly string[]).includes(value)) return value as TfBackendName;
  throw new Error(
    `${source}: unknown TensorFlow.js backend '${value}', expected one of ${TF_BACKEND_CHAIN.join(', ')}`,
  );
}

let current: TfBackendSelection | undefined;

/**
 * Loads the first TensorFlow.js backend of the chain that works, or exactly the preferred one.
 *
 * @param options - `preferred`: a chain name; when given, only that backend is tried and a failure
 *   throws. Defaults to `process.env.CFA_TF_BACKEND`, else the whole chain.
 * @returns which backend runs and why the ones before it did not.
 * @throws Error when the preferred backend does not load, naming the loader error.
 */
export async function selectTfBackend(options: { preferred?: string } = {}): Promise<TfBackendSelection> {
  const preferredRaw = options.preferred ?? process.env[TF_BACKEND_ENV];
  const preferred = preferredRaw
    ? parseTfBackendName(preferredRaw, options.preferred ? 'backend' : TF_BACKEND_ENV)
    : undefined;
  if (current && (!preferred || current.backend === preferred)) return current;
  const chain: readonly TfBackendName[] = preferred ? [preferred] : TF_BACKEND_CHAIN;
  const attempts: TfBackendAttempt[] = [];
  for (const name of chain) {
    try {
      await tryLoad(name);
      attempts.push({ name, ok: true });
      current = { backend: name, tfBackendId: tf.getBackend(), attempts };
      return current;
    } catch (error) {
      attempts.push({ name, ok: false, error: firstLine(error) });
    }
  }
  const why = attempts.map((a) => `${a.name}: ${a.error}`).join('; ');
  throw new Error(`no TensorFlow.js backend could be loaded (${why})`);
}

/** The selection made so far, if any. */
export function currentTfBackend(): TfBackendSelection | undefined {
  return current;
}

/** One line saying which backend runs and why earlier ones were skipped. */
export function describeTfBackend(selection: TfBackendSelection): string {
  const skipped = selection.attempts.filter((a) => !a.ok).map((a) => `${a.name} unavailable`);
  return `TensorFlow.js backend: ${selection.backend}${skipped.length ? ` (${skipped.join(', ')})` : ''}`;
}

export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].slice(0, 200);
}
