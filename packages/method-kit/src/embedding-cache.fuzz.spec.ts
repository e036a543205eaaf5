/**
 * Feature-cache entries under property-based fuzzing (embedding-cache.fuzz.ts), in a worker with a
 * watchdog and a heap cap. Bounded: about 1000 inputs per property, 20 s per property at most.
 */
import { propertiesHoldInWorker } from '@cfa/io/testing';
import { describe, it } from 'vitest';

describe('fuzzing: feature-cache entries', () => {
  it(
    'a damaged entry is a miss or exactly what was stored, never an exception',
    ...propertiesHoldInWorker({
      module: new URL('./embedding-cache.fuzz.ts', import.meta.url),
      exportName: 'cacheEntryProperties',
      timeoutMs: 180_000,
    }),
  );
});
