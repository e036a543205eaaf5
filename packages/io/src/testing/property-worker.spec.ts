import { describe, expect, it } from 'vitest';
import { runPropertyInWorker } from './property-worker';

const module = new URL('../__fixtures__/sample-properties.ts', import.meta.url);

describe('runPropertyInWorker', () => {
  it("returns the property module's outcome", async () => {
    expect(await runPropertyInWorker({ module, exportName: 'passes', timeoutMs: 60_000 })).toEqual({
      failures: [],
      runs: { sample: 1 },
    });
  });

  it('stops a hang and names the last input', async () => {
    await expect(runPropertyInWorker({ module, exportName: 'hangs', timeoutMs: 5_000 })).rejects.toThrow(
      /hangs: no result within 5 s \(a hang\?\); last input: the input that hangs/,
    );
  });

  it('stops runaway memory at the heap cap and names the last input', async () => {
    await expect(
      runPropertyInWorker({ module, exportName: 'eatsMemory', timeoutMs: 60_000, maxHeapMb: 32 }),
    ).rejects.toThrow(/eatsMemory: the worker failed \(.*memory.*\); last input: the input that eats memory/i);
  });
});
