/**
 * @cfa/io/testing — the harness of every decoder's property-based tests (tests and test helpers
 * only; the lint rule keeps production code off it).
 *
 * - `runPropertyInWorker`: a property module in a worker thread, under a watchdog (hangs) and a
 *   heap cap (runaway memory), the last input named when either stops it; `propertiesHoldInWorker`:
 *   a fuzz spec's test body and timeout (past the watchdog: `fuzzTestTimeoutMs`).
 * - `checkProperties`: fast-check runs bounded in number and time inside such a module;
 *   `FUZZ_SCALE` multiplies them, `FUZZ_SEED` replays a reported failure.
 * - `byteEdits`, `withByteEdits`: point mutations of a valid file.
 * - `liveProcess`: another live process (a `sleep`), to stand for a lock holder that is not the test.
 */
export {
  checkProperties,
  fuzzScale,
  fuzzTestTimeoutMs,
  propertiesHoldInWorker,
  runPropertyInWorker,
} from './property-worker';
export type { FastCheckApi, NamedProperty, NoteInput, PropertyOutcome, PropertyWorkerOptions } from './property-worker';
export { byteEdits, withByteEdits } from './byte-edits';
export { liveProcess } from './live-process';
