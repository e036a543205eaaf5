/**
 * The weight-file decoders under property-based fuzzing (weight-files.fuzz.ts), each module in a
 * worker with a watchdog and a 512 MB heap cap: a hang or runaway memory fails the test with the
 * input that caused it. Bounded: about 200 inputs per property, 20 s per property at most.
 */
import { propertiesHoldInWorker } from '@cfa/io/testing';
import { describe, it } from 'vitest';

const module = new URL('./weight-files.fuzz.ts', import.meta.url);

describe.each(['safetensorsProperties', 'torchZipProperties', 'torchLegacyProperties'])('fuzzing: %s', (exportName) => {
  it(
    'a well-formed result within the memory bound, or a WeightFileError naming the file',
    ...propertiesHoldInWorker({ module, exportName, timeoutMs: 180_000 }),
  );
});
