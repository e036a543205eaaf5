import { describe, expect, it } from 'vitest';
import { composeAffine } from '@cfa/tensor-runtime';
import { scoresOnInputGrid } from './feature-alignment';

const side = 8;
/** One image's scores: 1 at (row, col), 0 elsewhere. */
const peak = (row: number, col: number) => {
  const s = new Float32Array(side * side);
  s[row * side + col] = 1;
  return s;
};
const argmax = (s: Float32Array) => {
  const i = s.indexOf(Math.max(...s));
  return [Math.floor(i / side), i % side];
};

describe('scoresOnInputGrid', () => {
  it('a score made on the aligned grid lands where the input shows that place', () => {
    // the image pose reads the input 0.5 to the right (2 of 8 pixels): aligned column 2 is input column 4
    const shift = Float32Array.from([1, 0, 0.5, 0, 1, 0]);
    const back = scoresOnInputGrid({ scores: peak(3, 2), count: 1, height: side, width: side, imageTheta: shift });
    expect(argmax(back)).toEqual([3, 4]);
    expect(back[3 * side + 4]).toBeCloseTo(1, 5);
    // a quarter turn (aligned (x, y) reads the input at (−y, x)), then the shift on top of it
    const turn = Float32Array.from([0, -1, 0, 1, 0, 0]);
    const turned = scoresOnInputGrid({ scores: peak(1, 6), count: 1, height: side, width: side, imageTheta: turn });
    expect(argmax(turned)).toEqual([6, 6]);
    const both = scoresOnInputGrid({
      scores: peak(3, 2),
      count: 1,
      height: side,
      width: side,
      imageTheta: shift,
      featureTheta: turn,
    });
    const expected = scoresOnInputGrid({
      scores: peak(3, 2),
      count: 1,
      height: side,
      width: side,
      imageTheta: composeAffine(shift, turn, 1),
    });
    expect(Array.from(both)).toEqual(Array.from(expected));
  });

  it('without poses the scores are returned as they are', () => {
    const s = peak(2, 5);
    expect(scoresOnInputGrid({ scores: s, count: 1, height: side, width: side })).toBe(s);
  });
});
