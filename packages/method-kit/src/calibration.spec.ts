import { describe, expect, it } from 'vitest';
import { calibrateThresholds, splitHoldout } from './calibration';

describe('splitHoldout', () => {
  const items = Array.from({ length: 20 }, (_, i) => `train/good/${i}`);

  it('holds out round(n · fraction) items chosen by the seed, both parts in the original order', () => {
    const a = splitHoldout(items, 0.1, 0);
    expect(a.holdout).toHaveLength(2);
    expect(a.fit).toHaveLength(18);
    expect([...a.fit, ...a.holdout].sort()).toEqual([...items].sort());
    expect(a.fit).toEqual([...a.fit].sort((x, y) => items.indexOf(x) - items.indexOf(y)));
    expect(splitHoldout(items, 0.1, 0)).toEqual(a);
    const others = [1, 2, 3, 4, 5].map((seed) => splitHoldout(items, 0.1, seed).holdout.join());
    expect(new Set([a.holdout.join(), ...others]).size).toBeGreaterThan(1);
  });

  it('holds out nothing at 0 or with one item; at least one, never all, otherwise', () => {
    expect(splitHoldout(items, 0, 0)).toEqual({ fit: items, holdout: [] });
    expect(splitHoldout(['a'], 0.5, 0)).toEqual({ fit: ['a'], holdout: [] });
    expect(splitHoldout(items.slice(0, 4), 0.1, 0).holdout).toHaveLength(1);
    expect(splitHoldout(items.slice(0, 3), 0.99, 0).fit).toHaveLength(1);
  });
});

describe('calibrateThresholds', () => {
  it('takes the image threshold from image scores and the pixel threshold from every map value', () => {
    const maps = Float32Array.from({ length: 2 * 100 }, (_, i) => i); // 0 … 199
    const t = calibrateThresholds(
      { maps, imageScores: new Float32Array([99, 199]) },
      { holdout: 0.1, imageFpr: 0, pixelFpr: 0.005 },
    );
    expect(t.image).toBe(199);
    expect(t.pixel).toBeCloseTo(199 * 0.995, 10);
    expect(t).toMatchObject({ imageFpr: 0, pixelFpr: 0.005, holdoutImages: 2, method: 'holdout-quantile' });
  });
});
