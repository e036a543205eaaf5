import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { describeTfBackend, parseTfBackendName, selectTfBackend } from './tf-backend';

describe('selectTfBackend', () => {
  it('walks the chain and lands on the first backend that loads (native ones are not installed here)', async () => {
    const selection = await selectTfBackend();
    expect(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']).toContain(selection.backend);
    expect(selection.attempts.at(-1)).toMatchObject({ name: selection.backend, ok: true });
    expect(tf.getBackend()).toBe(selection.tfBackendId);
    // every skipped entry says why
    for (const attempt of selection.attempts.slice(0, -1)) expect(attempt.error).toBeTruthy();
    expect(describeTfBackend(selection)).toContain(selection.backend);
  });

  it('honours an explicit preference', async () => {
    const cpu = await selectTfBackend({ preferred: 'cpu' });
    expect(cpu.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const wasm = await selectTfBackend({ preferred: 'wasm' });
    expect(wasm.backend).toBe('wasm');
  });

  it('rejects unknown names with the list of valid ones', () => {
    expect(() => parseTfBackendName('webgpu', '--backend')).toThrow(
      /--backend: unknown TensorFlow.js backend 'webgpu', expected one of tfjs-node-gpu, tfjs-node, wasm, cpu/,
    );
  });
});
