/**
 * The file-store reader under property-based fuzzing (file-store.fuzz.ts), in a worker with a
 * watchdog and a heap cap: a hang or runaway memory fails the test with the input that caused it.
 * Bounded: at most 120 damaged versions of each of its 7 run files and 40 of each of its 3 logged-model files, 8 s per file (× FUZZ_SCALE).
 */
import { propertiesHoldInWorker } from '@cfa/io/testing';
import { describe, it } from 'vitest';

describe('fuzzing: the file store under damaged files', () => {
  it(
    'a correct read of every file, or an MlflowCorruptStoreError naming the damaged one',
    ...propertiesHoldInWorker({
      module: new URL('./file-store.fuzz.ts', import.meta.url),
      exportName: 'fileStoreProperties',
      timeoutMs: 180_000,
    }),
  );
});
