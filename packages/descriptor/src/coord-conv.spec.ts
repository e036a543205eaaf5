import { describe, expect, it } from 'vitest';
import {
  coordConvWeightFromTorch,
  coordConvWeightToTorch,
  coordinateChannels,
  createCoordConvParams,
} from './coord-conv';

describe('coordinateChannels', () => {
  it('3×2 grid: channel 0 is the row scaled to [-1,1], channel 1 the column (reference AddCoords)', () => {
    expect(Array.from(coordinateChannels(3, 2))).toEqual([-1, -1, -1, 1, 0, -1, 0, 1, 1, -1, 1, 1]);
  });

  it('adds the radius channel √((x−.5)²+(y−.5)²) when asked', () => {
    const c = coordinateChannels(2, 2, true);
    expect(c[2]).toBeCloseTo(Math.sqrt(1.5 ** 2 + 1.5 ** 2), 6);
    expect(c[11]).toBeCloseTo(Math.sqrt(0.5 ** 2 + 0.5 ** 2), 6);
  });
});

describe('createCoordConvParams', () => {
  it('D=448, γd=4 → D′=112 with (448+2)×112 He-normal weights (std √(2/450)) and zero bias', () => {
    const p = createCoordConvParams({ inChannels: 448, gammaD: 4, seed: 0 });
    expect(p.outChannels).toBe(112);
    expect(p.weight.length).toBe(450 * 112);
    const std = Math.sqrt(p.weight.reduce((s, v) => s + v * v, 0) / p.weight.length);
    expect(std).toBeCloseTo(Math.sqrt(2 / 450), 2);
    expect(p.bias.every((v) => v === 0)).toBe(true);
  });

  it("'torch-default' draws U(±1/√fan_in) for weights and bias", () => {
    const p = createCoordConvParams({ inChannels: 62, gammaD: 1, init: 'torch-default', seed: 0 });
    const bound = 1 / 8;
    expect(Math.max(...p.weight.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...p.bias.map(Math.abs))).toBeGreaterThan(0);
  });

  it('is seeded, doubles outputs with outMultiplier 2, and refuses γd < 1', () => {
    expect(createCoordConvParams({ inChannels: 8, gammaD: 1, seed: 3 }).weight).toEqual(
      createCoordConvParams({ inChannels: 8, gammaD: 1, seed: 3 }).weight,
    );
    expect(createCoordConvParams({ inChannels: 568, gammaD: 2, outMultiplier: 2, seed: 0 }).outChannels).toBe(568);
    expect(() => createCoordConvParams({ inChannels: 8, gammaD: 0.5, seed: 0 })).toThrow(/gammaD must be ≥ 1, got 0.5/);
  });

  it('converts to PyTorch Conv2d layout [Dout, Din, 1, 1] and back', () => {
    const p = createCoordConvParams({ inChannels: 5, gammaD: 1, seed: 1 });
    const torch = coordConvWeightToTorch(p);
    expect(torch[2 * 7 + 3]).toBe(p.weight[3 * 5 + 2]); // out 2, in 3
    expect(coordConvWeightFromTorch(torch, 7, 5)).toEqual(p.weight);
  });
});
