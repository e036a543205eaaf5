/**
 * Point mutations of a valid file for the decoders' property tests: a few byte positions set to
 * random values (fast-check shrinks a failure to the fewest edits).
 *
 * @example
 * ```ts
 * fc.property(byteEdits(valid.length), (edits) => decodeOrNamedError(withByteEdits(valid, edits)));
 * ```
 */
import fc from 'fast-check';

/** One to six [position, byte] edits within `length` bytes. */
export const byteEdits = (length: number): fc.Arbitrary<[number, number][]> =>
  fc.array(fc.tuple(fc.nat({ max: length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 });

/** A copy of `bytes` with the edits applied in order. */
export function withByteEdits(bytes: Uint8Array, edits: [number, number][]): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (const [at, value] of edits) out[at] = value;
  return out;
}
