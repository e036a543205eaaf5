/**
 * How far two arrays differ, relative to the reference's scale: the measure every parity spec
 * compares against its tolerance (1e-4 against the reference code's fixtures, see the README).
 *
 * @example
 * ```ts
 * maxRelativeError([1, 2.0002], [1, 2]); // 1e-4
 * ```
 */

/** max |a − b| / max |b|. */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let maxAbs = 0,
    maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(actual[i] - expected[i]));
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxAbs / maxRef;
}
