import { describe, expect, it } from 'vitest';
import { assertShape } from './shape';

describe('assertShape', () => {
  it('binds named dimensions and checks them across arguments', () => {
    const bound = assertShape('op', 'x', [2, 5, 5, 3], ['N', 'H', 'W', 3]);
    expect(bound).toEqual({ N: 2, H: 5, W: 5 });
    expect(() => assertShape('op', 'mask', [2, 4, 5], ['N', 'H', 'W'], bound)).toThrow(
      /Error in op: mask must have shape \[N, H, W\], got \[2, 4, 5\] \(dimension 1 \(H\) is 4, but H = 5 elsewhere\)/,
    );
  });

  it('names the rank mismatch and fixed sizes', () => {
    expect(() => assertShape('conv', 'x', [1, 4, 4], [null, null, null, 3])).toThrow(/rank 3, expected 4/);
    expect(() => assertShape('conv', 'x', [1, 4, 4, 2], [null, null, null, 3])).toThrow(/dimension 3 is 2, expected 3/);
  });
});
