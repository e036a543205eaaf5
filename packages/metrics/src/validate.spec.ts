import { describe, expect, it } from 'vitest';
import {
  assertBinary,
  assertFinite,
  assertFprLimit,
  assertLength,
  assertPositiveInteger,
  checkMapsAndMasks,
  pixelLocator,
} from './validate';

describe('validate', () => {
  it('locates a flat index in a [count, height, width] stack (3×4 images)', () => {
    const locate = pixelLocator(3, 4);
    expect(locate(0)).toBe('index 0 (image 0, row 0, column 0)');
    expect(locate(11)).toBe('index 11 (image 0, row 2, column 3)');
    // 12 per image: 29 = 2·12 + 5 → image 2, row 1, column 1
    expect(locate(29)).toBe('index 29 (image 2, row 1, column 1)');
  });

  it('counts every non-finite value and reports the first', () => {
    expect(() => assertFinite('M', 'xs', [1, 2, 3])).not.toThrow();
    expect(() => assertFinite('M', 'xs', [1, Infinity, NaN, -Infinity])).toThrow(
      'M: xs holds 3 non-finite values (NaN or ±Infinity); the first is Infinity at index 1',
    );
    expect(() => assertFinite('M', 'xs', Float64Array.of(-Infinity))).toThrow(
      /holds 1 non-finite value .*-Infinity at index 0/,
    );
  });

  it('accepts only 0 and 1 as labels', () => {
    expect(() => assertBinary('M', 'ys', Uint8Array.of(0, 1, 1, 0))).not.toThrow();
    expect(() => assertBinary('M', 'ys', [0, 0.5, 1, -1])).toThrow(
      'M: ys must hold only 0 and 1, but 2 values do not; the first is 0.5 at index 1',
    );
    expect(() => assertBinary('M', 'ys', [NaN])).toThrow(/the first is NaN at index 0/);
  });

  it('names lengths, integers and limits with expected and received', () => {
    expect(() => assertLength('M', 'ys', [1, 2], 3, 'one per x')).toThrow('M: ys has 2 values, expected 3 (one per x)');
    expect(() => assertPositiveInteger('M', 'count', -1)).toThrow('M: count must be a positive integer, got -1');
    expect(() => assertPositiveInteger('M', 'count', NaN)).toThrow(/got NaN/);
    expect(() => assertFprLimit('M', NaN)).toThrow('M: fprLimit must be in (0, 1], got NaN');
    expect(() => assertFprLimit('M', 1)).not.toThrow();
  });

  it('checks maps and masks: shape first, then values', () => {
    const ok = { maps: new Float32Array(6), masks: new Uint8Array(6), count: 1, height: 2, width: 3 };
    expect(() => checkMapsAndMasks('M', ok)).not.toThrow();
    expect(() => checkMapsAndMasks('M', { ...ok, height: 0 })).toThrow(
      'M: height must be a positive integer, got 0 (empty input)',
    );
    expect(() => checkMapsAndMasks('M', { ...ok, masks: Uint8Array.of(0, 0, 0, 0, 0, 2) })).toThrow(
      /the first is 2 at index 5 \(image 0, row 1, column 2\)/,
    );
  });
});
