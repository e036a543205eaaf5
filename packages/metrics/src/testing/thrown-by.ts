/**
 * The error a call throws, for tests that inspect its fields (fails the test if nothing is thrown).
 *
 * @example
 * ```ts
 * import { thrownBy } from './testing/thrown-by';
 * thrownBy(() => JSON.parse('{')); // SyntaxError
 * ```
 */
export function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw, but it returned');
}
