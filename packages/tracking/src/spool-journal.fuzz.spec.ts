/**
 * The spool journal's reader under property-based fuzzing (spool-journal.fuzz.ts), in a worker
 * with a watchdog and a heap cap: a hang or runaway memory fails the test with the input that
 * caused it. Bounded: at most 200 damaged journals, 8 s (× FUZZ_SCALE).
 */
import { fuzzTestTimeoutMs, runPropertyInWorker } from '@cfa/io/testing';
import { describe, expect, it } from 'vitest';

/** The worker's watchdog (× FUZZ_SCALE); the test waits a little longer, so that the watchdog reports a hang. */
const TIMEOUT_MS = 120_000;

describe('fuzzing: the spool journal under damaged files', () => {
  it(
    'valid pending entries (a truncation: exactly the whole lines), or an error naming the spool',
    async () => {
      const outcome = await runPropertyInWorker({
        module: new URL('./spool-journal.fuzz.ts', import.meta.url),
        exportName: 'spoolJournalProperties',
        timeoutMs: TIMEOUT_MS,
      });
      expect(outcome.failures).toEqual([]);
      expect(outcome.runs['damaged journal']).toBeGreaterThan(0);
    },
    fuzzTestTimeoutMs(TIMEOUT_MS),
  );
});
