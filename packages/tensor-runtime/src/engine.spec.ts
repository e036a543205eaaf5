import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultThreads, describeEngine, ENGINE_ENV, selectEngine, THREADS_ENV } from './engine';

const saved = { engine: process.env[ENGINE_ENV], threads: process.env[THREADS_ENV] };
afterEach(() => {
  for (const [name, value] of [
    [ENGINE_ENV, saved.engine],
    [THREADS_ENV, saved.threads],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('selectEngine', () => {
  it('auto takes ONNX Runtime where onnxruntime-node loads, with the threads asked and its version', async () => {
    const engine = await selectEngine({ requested: 'auto', tfBackend: 'cpu', threads: 2 });
    expect(engine.name).toBe('ort');
    expect(engine.threads).toBe(2);
    expect(describeEngine(engine)).toMatch(/^engine: ort \(onnxruntime-node \d+\.\d+\.\d+, 2 threads\)/);
  });

  it('tfjs runs one thread and says so; CFA_ENGINE chooses when no engine is passed', async () => {
    process.env[ENGINE_ENV] = 'tfjs';
    const engine = await selectEngine({ tfBackend: 'cpu', threads: 4 });
    expect(engine.name).toBe('tfjs');
    expect(engine.threads).toBe(1);
    expect(describeEngine(engine)).toMatch(/^engine: tfjs; /);
  });

  it('names where an unknown engine came from: the option or the variable', async () => {
    await expect(selectEngine({ requested: 'gpu' })).rejects.toThrow(
      /^engine: unknown engine 'gpu', expected one of auto, ort, tfjs$/,
    );
    process.env[ENGINE_ENV] = 'cuda';
    await expect(selectEngine()).rejects.toThrow(/^CFA_ENGINE: unknown engine 'cuda'/);
  });
});

describe('defaultThreads', () => {
  it('CFA_THREADS when it is a positive integer, else every core', () => {
    process.env[THREADS_ENV] = '3';
    expect(defaultThreads()).toBe(3);
    for (const bad of ['0', '-2', '1.5', 'many']) {
      process.env[THREADS_ENV] = bad;
      expect(defaultThreads(), bad).toBe(Math.max(1, availableParallelism()));
    }
  });
});
