/**
 * Feature-cache entries under property-based fuzzing (embedding-cache.fuzz.ts), in a worker with a
 * watchdog and a heap cap. Bounded: about 1000 inputs per property, 20 s per property at most.
 */
import { fuzzTestTimeoutMs, runPropertyInWorker } from '@cfa/io/testing';
import { describe, expect, it } from 'vitest';

/** The worker's watchdog (× FUZZ_SCALE); the test waits a little longer, so that the watchdog reports a hang. */
const TIMEOUT_MS = 180_000;

describe('fuzzing: feature-cache entries', () => {
  it(
    'a damaged entry is a miss or exactly what was stored, never an exception',
    async () => {
      const outcome = await runPropertyInWorker({
        module: new URL('./embedding-cache.fuzz.ts', import.meta.url),
        exportName: 'cacheEntryProperties',
        timeoutMs: TIMEOUT_MS,
      });
      expect(outcome.failures).toEqual([]);
      expect(Object.values(outcome.runs).every((n) => n > 0)).toBe(true);
    },
    fuzzTestTimeoutMs(TIMEOUT_MS),
  );
});
