/**
 * The image and mask readers under property-based fuzzing (image-files.fuzz.ts), in a worker with a
 * watchdog and a heap cap: a hang or runaway memory fails the test with the input that caused it.
 * Bounded: about 200 inputs per property, 20 s per property at most.
 */
import { propertiesHoldInWorker } from '@cfa/io/testing';
import { describe, it } from 'vitest';

const module = new URL('./image-files.fuzz.ts', import.meta.url);

describe.each(['imageProperties', 'maskProperties'])('fuzzing: %s', (exportName) => {
  it(
    'a well-formed image or 0/1 mask, or a DatasetError naming the file',
    ...propertiesHoldInWorker({ module, exportName, timeoutMs: 180_000 }),
  );
});
