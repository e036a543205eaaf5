/**
 * The file-store reader under property-based fuzzing (file-store.fuzz.ts), in a worker with a
 * watchdog and a heap cap: a hang or runaway memory fails the test with the input that caused it.
 * Bounded: at most 120 damaged versions of each of its 7 files, 8 s per file (× FUZZ_SCALE).
 */
import { fuzzTestTimeoutMs, runPropertyInWorker } from '@cfa/io/testing';
import { describe, expect, it } from 'vitest';

/** The worker's watchdog (× FUZZ_SCALE); the test waits a little longer, so that the watchdog reports a hang. */
const TIMEOUT_MS = 180_000;

describe('fuzzing: the file store under damaged files', () => {
  it(
    'a correct read, or an MlflowCorruptStoreError naming the damaged file',
    async () => {
      const outcome = await runPropertyInWorker({
        module: new URL('./file-store.fuzz.ts', import.meta.url),
        exportName: 'fileStoreProperties',
        timeoutMs: TIMEOUT_MS,
      });
      expect(outcome.failures).toEqual([]);
      expect(Object.keys(outcome.runs)).toHaveLength(7);
      expect(Object.values(outcome.runs).every((n) => n > 0)).toBe(true);
    },
    fuzzTestTimeoutMs(TIMEOUT_MS),
  );
});
