/**
 * The weight-file decoders under property-based fuzzing (weight-files.fuzz.ts), each module in a
 * worker with a watchdog and a 512 MB heap cap: a hang or runaway memory fails the test with the
 * input that caused it. Bounded: about 200 inputs per property, 20 s per property at most.
 */
import { fuzzTestTimeoutMs, runPropertyInWorker } from '@cfa/io/testing';
import { describe, expect, it } from 'vitest';

/** The worker's watchdog (× FUZZ_SCALE); the test waits a little longer, so that the watchdog reports a hang. */
const TIMEOUT_MS = 180_000;
const module = new URL('./weight-files.fuzz.ts', import.meta.url);

describe.each(['safetensorsProperties', 'torchZipProperties', 'torchLegacyProperties'])('fuzzing: %s', (exportName) => {
  it(
    'a well-formed result within the memory bound, or a WeightFileError naming the file',
    async () => {
      const outcome = await runPropertyInWorker({ module, exportName, timeoutMs: TIMEOUT_MS });
      expect(outcome.failures).toEqual([]);
      expect(Object.values(outcome.runs).every((n) => n > 0)).toBe(true);
    },
    fuzzTestTimeoutMs(TIMEOUT_MS),
  );
});
