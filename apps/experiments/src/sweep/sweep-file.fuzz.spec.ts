/**
 * Sweep files under property-based fuzzing (sweep-file.fuzz.ts), in a worker with a watchdog and a
 * heap cap. Bounded: about 200 inputs per property, 20 s per property at most.
 */
import { fuzzTestTimeoutMs, runPropertyInWorker } from '@cfa/io/testing';
import { describe, expect, it } from 'vitest';

/** The worker's watchdog (× FUZZ_SCALE); the test waits a little longer, so that the watchdog reports a hang. */
const TIMEOUT_MS = 240_000;

describe('fuzzing: sweep files', () => {
  it(
    'validated cells or a SweepError naming the file; Object.prototype untouched',
    async () => {
      const outcome = await runPropertyInWorker({
        module: new URL('./sweep-file.fuzz.ts', import.meta.url),
        exportName: 'sweepFileProperties',
        timeoutMs: TIMEOUT_MS,
      });
      expect(outcome.failures).toEqual([]);
      expect(Object.values(outcome.runs).every((n) => n > 0)).toBe(true);
    },
    fuzzTestTimeoutMs(TIMEOUT_MS),
  );
});
