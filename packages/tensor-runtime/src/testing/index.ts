/**
 * @cfa/tensor-runtime/testing — what the parity specs of every stage share (tests, test helpers
 * and tools only; the lint rule keeps production code off it).
 *
 * - `maxRelativeError`: max |a − b| / max |b|, the measure compared with each parity tolerance.
 */
export { maxRelativeError } from './max-relative-error';
