/**
 * Sweep files under property-based fuzzing (sweep-file.fuzz.ts), in a worker with a watchdog and a
 * heap cap. Bounded: about 200 inputs per property, 20 s per property at most.
 */
import { propertiesHoldInWorker } from '@cfa/io/testing';
import { describe, it } from 'vitest';

describe('fuzzing: sweep files', () => {
  it(
    'validated cells or a SweepError naming the file; Object.prototype untouched',
    ...propertiesHoldInWorker({
      module: new URL('./sweep-file.fuzz.ts', import.meta.url),
      exportName: 'sweepFileProperties',
      timeoutMs: 240_000,
    }),
  );
});
