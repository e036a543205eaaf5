import { describe, expect, it } from 'vitest';
import type { StateDict } from './state-dict';
import { stateDictDigest } from './state-dict-digest';

const dict = (entries: [string, number[], number[]][]): StateDict =>
  new Map(entries.map(([name, shape, data]) => [name, { shape, data: Float32Array.from(data) }]));

describe('stateDictDigest', () => {
  it('depends on values, shapes and names but not on insertion order', () => {
    const a = dict([
      ['conv.weight', [2, 1], [1, 2]],
      ['bn.bias', [1], [0.5]],
    ]);
    const reordered = dict([
      ['bn.bias', [1], [0.5]],
      ['conv.weight', [2, 1], [1, 2]],
    ]);
    expect(stateDictDigest(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(stateDictDigest(reordered)).toBe(stateDictDigest(a));
    expect(
      stateDictDigest(
        dict([
          ['conv.weight', [2, 1], [1, 2.0001]],
          ['bn.bias', [1], [0.5]],
        ]),
      ),
    ).not.toBe(stateDictDigest(a));
    expect(
      stateDictDigest(
        dict([
          ['conv.weight', [1, 2], [1, 2]],
          ['bn.bias', [1], [0.5]],
        ]),
      ),
    ).not.toBe(stateDictDigest(a));
    expect(
      stateDictDigest(
        dict([
          ['conv.w', [2, 1], [1, 2]],
          ['bn.bias', [1], [0.5]],
        ]),
      ),
    ).not.toBe(stateDictDigest(a));
  });
});
