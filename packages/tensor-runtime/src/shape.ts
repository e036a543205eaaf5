/**
 * Shape checks at package boundaries, in the style of TensorFlow.js ops: the message names the op,
 * the argument, the expected shape and the shape received.
 */

/** `null` in an expected shape matches any size; a string names a size that must agree across calls. */
export type ShapeSpec = ReadonlyArray<number | string | null>;

/**
 * Asserts `actual` matches `expected`; returns the sizes bound to named dimensions.
 *
 * @example
 * ```ts
 * assertShape('descriptor', 'features', [4, 56, 56, 448], ['N', 'H', 'W', 448]);
 * ```
 */
export function assertShape(
  op: string,
  arg: string,
  actual: ReadonlyArray<number>,
  expected: ShapeSpec,
  bound: Record<string, number> = {},
): Record<string, number> {
  const fail = (why: string): never => {
    throw new Error(
      `Error in ${op}: ${arg} must have shape [${expected.map((e) => e ?? '*').join(', ')}], got [${actual.join(', ')}] (${why})`,
    );
  };
  if (actual.length !== expected.length) fail(`rank ${actual.length}, expected ${expected.length}`);
  expected.forEach((e, i) => {
    const a = actual[i];
    if (e === null) return;
    if (typeof e === 'number') {
      if (a !== e) fail(`dimension ${i} is ${a}, expected ${e}`);
      return;
    }
    if (bound[e] === undefined) bound[e] = a;
    else if (bound[e] !== a) fail(`dimension ${i} (${e}) is ${a}, but ${e} = ${bound[e]} elsewhere`);
  });
  return bound;
}

export function assert(condition: unknown, op: string, message: () => string): asserts condition {
  if (!condition) throw new Error(`Error in ${op}: ${message()}`);
}

export function product(shape: ReadonlyArray<number>): number {
  return shape.reduce((a, b) => a * b, 1);
}
