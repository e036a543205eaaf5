import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProperties, fuzzTestTimeoutMs, propertiesHoldInWorker, runPropertyInWorker } from './property-worker';

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

  it('scales the watchdog by FUZZ_SCALE (never below 1×), and the test timeout past it', async () => {
    process.env.FUZZ_SCALE = '3';
    try {
      expect(fuzzTestTimeoutMs(1_000)).toBe(18_000);
      await expect(runPropertyInWorker({ module, exportName: 'hangs', timeoutMs: 1_000 })).rejects.toThrow(
        /no result within 3 s/,
      );
      process.env.FUZZ_SCALE = '0.5';
      expect(fuzzTestTimeoutMs(1_000)).toBe(16_000);
    } finally {
      delete process.env.FUZZ_SCALE;
    }
  });
});

describe('checkProperties', () => {
  it("awaits a property's settled() before the next property starts, and counts its runs", async () => {
    const order: string[] = [];
    const first = fc.asyncProperty(fc.nat(), async () => true);
    const second = fc.asyncProperty(fc.nat(), async () => {
      order.push('second');
      return true;
    });
    const outcome = await checkProperties(
      fc,
      [
        {
          name: 'first',
          property: first,
          runs: 3,
          settled: async () => {
            await new Promise((resolve) => setTimeout(resolve, 20));
            order.push('first settled');
          },
        },
        { name: 'second', property: second, runs: 2 },
      ],
      { runs: 5 },
    );
    expect(order).toEqual(['first settled', 'second', 'second']);
    expect(outcome).toEqual({ failures: [], runs: { first: 3, second: 2 } });
  });

  it('reports a failing property with its counterexample', async () => {
    const outcome = await checkProperties(fc, [
      { name: 'small', property: fc.property(fc.nat(), (n) => n < 5), runs: 100 },
    ]);
    expect(outcome.failures).toHaveLength(1);
    expect(outcome.failures[0]).toMatch(/^small: .*Counterexample: \[5\]/s);
  });
});

describe('propertiesHoldInWorker', () => {
  it("passes when every property held; otherwise fails with fast-check's report or the idle property", async () => {
    const [passes, timeout] = propertiesHoldInWorker({ module, exportName: 'passes', timeoutMs: 30_000 });
    expect(timeout).toBe(fuzzTestTimeoutMs(30_000));
    await passes();
    await expect(propertiesHoldInWorker({ module, exportName: 'fails', timeoutMs: 30_000 })[0]()).rejects.toThrow(
      /^fails: 1 failed\ndecode: Counterexample: \[\[1, 2\]\]\nGot: TypeError: oops$/,
    );
    await expect(propertiesHoldInWorker({ module, exportName: 'idle', timeoutMs: 30_000 })[0]()).rejects.toThrow(
      /^idle: no run of header$/,
    );
  });
});
