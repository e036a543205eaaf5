/**
 * The spool journal's reader under property-based fuzzing (spool-journal.fuzz.ts), in a worker
 * with a watchdog and a heap cap: a hang or runaway memory fails the test with the input that
 * caused it. Bounded: at most 200 damaged journals, 8 s (× FUZZ_SCALE).
 */
import { propertiesHoldInWorker } from '@cfa/io/testing';
import { describe, it } from 'vitest';

describe('fuzzing: the spool journal under damaged files', () => {
  it(
    'valid pending entries (a truncation: exactly the whole lines), or an error naming the spool',
    ...propertiesHoldInWorker({
      module: new URL('./spool-journal.fuzz.ts', import.meta.url),
      exportName: 'spoolJournalProperties',
      timeoutMs: 120_000,
    }),
  );
});
