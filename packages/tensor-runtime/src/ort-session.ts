/**
 * ONNX Runtime sessions over graphs built in memory, with the options we always want
 * (all graph optimisations, CPU provider unless asked otherwise, a fixed thread count). A feed
 * with an empty dimension is refused before the session runs: ONNX Runtime 1.30's TopK kernel
 * dies with SIGFPE on an empty batch, taking the whole process with it.
 *
 * A GPU user enables CUDA with `CFA_ORT_PROVIDERS=cuda,cpu` once onnxruntime-node's CUDA
 * libraries are installed (`node node_modules/onnxruntime-node/script/install
 * --onnxruntime-node-install=cuda12`: the package.json's `allowScripts` keeps that step from
 * running on `npm ci`, see the README).
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { EngineSelection, OrtModule } from './engine';

export const ORT_PROVIDERS_ENV = 'CFA_ORT_PROVIDERS';
/** Set to a file prefix to have ONNX Runtime write a per-node profile (JSON, chrome://tracing) when a session is released. */
export const ORT_PROFILE_ENV = 'CFA_ORT_PROFILE';

export interface OrtRunner {
  readonly session: InferenceSession;
  /** Runs with float32/int64 feeds; returns the named outputs as plain typed arrays with dims. */
  run(feeds: Record<string, OrtFeed>): Promise<Record<string, OrtOutput>>;
  release(): Promise<void>;
}

export interface OrtFeed {
  data: Float32Array | BigInt64Array;
  dims: number[];
}

export interface OrtOutput {
  data: Float32Array | BigInt64Array;
  dims: number[];
}

function providers(): string[] {
  const raw = process.env[ORT_PROVIDERS_ENV];
  return raw
    ? raw
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)
    : ['cpu'];
}

export async function createOrtRunner(engine: EngineSelection, model: Uint8Array, label: string): Promise<OrtRunner> {
  const ort = requireOrt(engine, label);
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, {
      executionProviders: providers(),
      graphOptimizationLevel: 'all',
      intraOpNumThreads: engine.threads,
      interOpNumThreads: 1,
      ...(process.env[ORT_PROFILE_ENV]
        ? { enableProfiling: true, profileFilePrefix: process.env[ORT_PROFILE_ENV] }
        : {}),
    });
  } catch (error) {
    throw new Error(`ONNX Runtime could not build the '${label}' session: ${(error as Error).message}`);
  }
  return {
    session,
    async run(feeds) {
      const inputs: Record<string, Tensor> = {};
      for (const [name, feed] of Object.entries(feeds)) {
        // ONNX Runtime's TopK divides by the row count: an empty batch kills the process with
        // SIGFPE instead of raising (pinned in ort-empty-batch.spec.ts), so it never gets there
        if (feed.dims.includes(0))
          throw new Error(
            `'${label}': input '${name}' is empty ([${feed.dims.join(', ')}]); at least one image (row) is needed — ONNX Runtime would kill the process on an empty batch`,
          );
        inputs[name] = new ort.Tensor(feed.data instanceof Float32Array ? 'float32' : 'int64', feed.data, feed.dims);
      }
      const result = await session.run(inputs);
      const out: Record<string, OrtOutput> = {};
      for (const [name, tensor] of Object.entries(result)) {
        out[name] = { data: tensor.data as Float32Array | BigInt64Array, dims: [...tensor.dims] };
        tensor.dispose?.();
      }
      return out;
    },
    async release() {
      if (process.env[ORT_PROFILE_ENV]) session.endProfiling();
      await session.release();
    },
  };
}

export function requireOrt(engine: EngineSelection, label: string): OrtModule {
  if (!engine.ort)
    throw new Error(`${label}: engine '${engine.name}' has no ONNX Runtime; select engine 'ort' or 'auto'`);
  return engine.ort;
}
