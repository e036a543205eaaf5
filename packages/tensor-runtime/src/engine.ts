/**
 * Engine selection: ONNX Runtime (native CPU kernels, our fast path) or the TensorFlow.js backend
 * chain (the portable path, and the one with autograd).
 *
 * `auto` takes ONNX Runtime when `onnxruntime-node` loads, else TensorFlow.js.
 *
 * @example
 * ```ts
 * const engine = await selectEngine({ requested: 'auto' });
 * console.log(describeEngine(engine)); // "engine: ort (onnxruntime-node 1.30.0, 2 threads)"
 * ```
 */
import { availableParallelism } from 'node:os';
import type * as Ort from 'onnxruntime-node';
import { describeTfBackend, firstLine, selectTfBackend, type TfBackendSelection } from './tf-backend';

export const ENGINE_NAMES = ['auto', 'ort', 'tfjs'] as const;
export type EngineRequest = (typeof ENGINE_NAMES)[number];
export type EngineName = Exclude<EngineRequest, 'auto'>;
export const ENGINE_ENV = 'CFA_ENGINE';
export const THREADS_ENV = 'CFA_THREADS';

export type OrtModule = typeof Ort;

export interface EngineSelection {
  name: EngineName;
  /** Intra-op threads ONNX Runtime uses (1 for TensorFlow.js wasm/cpu, which run one thread in Node). */
  threads: number;
  /** Always selected: the descriptor's gradient step and the portable ops run on it. */
  tf: TfBackendSelection;
  ort?: OrtModule;
  ortVersion?: string;
  /** Why ONNX Runtime is not used, when it is not. */
  ortUnavailable?: string;
}

let ortCache: { module?: OrtModule; error?: string } | undefined;

/** Loads onnxruntime-node once; returns undefined (with the reason kept) when it does not load. */
export async function loadOrt(): Promise<{ module?: OrtModule; error?: string }> {
  if (!ortCache) {
    try {
      const mod = (await import('onnxruntime-node')) as OrtModule & { default?: OrtModule };
      ortCache = { module: (mod.InferenceSession ? mod : mod.default) as OrtModule };
    } catch (error) {
      ortCache = { error: firstLine(error) };
    }
  }
  return ortCache;
}

export function parseEngineRequest(value: string, source: string): EngineRequest {
  if ((ENGINE_NAMES as readonly string[]).includes(value)) return value as EngineRequest;
  throw new Error(`${source}: unknown engine '${value}', expected one of ${ENGINE_NAMES.join(', ')}`);
}

export function defaultThreads(): number {
  const fromEnv = Number(process.env[THREADS_ENV]);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.max(1, availableParallelism());
}

/**
 * Picks the engine.
 *
 * @param options - `requested`: 'auto' | 'ort' | 'tfjs' (default `process.env.CFA_ENGINE`, else
 *   'auto'); `tfBackend`: the TensorFlow.js backend preference, passed to `selectTfBackend`;
 *   `threads`: ONNX Runtime intra-op threads (default `CFA_THREADS`, else all cores).
 * @throws Error when 'ort' is requested and onnxruntime-node does not load.
 */
export async function selectEngine(
  options: { requested?: string; tfBackend?: string; threads?: number } = {},
): Promise<EngineSelection> {
  const raw = options.requested ?? process.env[ENGINE_ENV] ?? 'auto';
  const requested = parseEngineRequest(raw, options.requested ? 'engine' : ENGINE_ENV);
  const tf = await selectTfBackend({ preferred: options.tfBackend });
  const threads = options.threads ?? defaultThreads();
  if (requested === 'tfjs') return { name: 'tfjs', threads: 1, tf };
  const ort = await loadOrt();
  if (ort.module) {
    return { name: 'ort', threads, tf, ort: ort.module, ortVersion: ort.module.env?.versions?.node ?? 'unknown' };
  }
  if (requested === 'ort') throw new Error(`engine 'ort' requested but onnxruntime-node does not load: ${ort.error}`);
  return { name: 'tfjs', threads: 1, tf, ortUnavailable: ort.error };
}

export function describeEngine(engine: EngineSelection): string {
  const tfLine = describeTfBackend(engine.tf);
  if (engine.name === 'ort') {
    return `engine: ort (onnxruntime-node ${engine.ortVersion}, ${engine.threads} threads); ${tfLine} for the random-init BatchNorm calibration`;
  }
  const why = engine.ortUnavailable ? `; onnxruntime-node unavailable: ${engine.ortUnavailable}` : '';
  return `engine: tfjs; ${tfLine}${why}`;
}
