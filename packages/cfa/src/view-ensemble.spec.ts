/**
 * CFA++: the combined map of every test image is the mean of the primary map and the companion's
 * map aligned to the primary grid; the primary model is the plain CFA model; the image score is
 * the combined map's maximum.
 */
import { selectEngine } from '@cfa/tensor-runtime';
import { alignCompanionMap, ViewSchema } from '@cfa/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { CfaConfigSchema } from './config';
import { tinyDiscCategory } from '@cfa/method-kit/testing';
import type { Prediction } from '@cfa/method-kit';
import { runCfaOnCategory } from './run-cfa';
import { combineViewPredictions } from '@cfa/method-kit';

function prediction(ids: string[], size: number, value: (i: number, y: number, x: number) => number): Prediction {
  const maps = new Float32Array(ids.length * size * size);
  ids.forEach((_, i) => {
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) maps[(i * size + y) * size + x] = value(i, y, x);
  });
  return { maps, patchScores: new Float32Array(0), imageScores: new Float32Array(ids.length), size, ids, seconds: 1 };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('combineViewPredictions', () => {
  const primaryView = ViewSchema.parse({ kind: 'center-crop', resize: 16, crop: 12 });

  it('center-crop 16/12 + resize 12: a constant companion map averages in exactly; scores are the combined maxima', () => {
    const ids = ['a', 'b'];
    const primary = prediction(ids, 12, (i, y, x) => i + y * 0.01 + x * 0.001);
    const companion = prediction(ids, 12, (i) => 10 * (i + 1));
    const combined = combineViewPredictions({ primaryView, primary, companion });
    expect(combined.size).toBe(12);
    expect(combined.ids).toEqual(ids);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 144; j++)
        expect(combined.maps[i * 144 + j]).toBeCloseTo((primary.maps[i * 144 + j] + 10 * (i + 1)) / 2, 5);
    }
    expect(combined.imageScores[0]).toBeCloseTo((0.121 + 10) / 2, 5);
    expect(combined.imageScores[1]).toBeCloseTo((1.121 + 20) / 2, 5);
    expect(combined.seconds).toBeGreaterThanOrEqual(2);
  });

  it('rejects predictions of different samples and maps of the wrong size', () => {
    const primary = prediction(['a', 'b'], 12, () => 0);
    expect(() =>
      combineViewPredictions({ primaryView, primary, companion: prediction(['b', 'a'], 12, () => 0) }),
    ).toThrow(/same ids in the same order/);
    expect(() =>
      combineViewPredictions({ primaryView, primary: prediction(['a', 'b'], 10, () => 0), companion: primary }),
    ).toThrow(/primary maps are 10² but the view center-crop:16:12 gives 12²/);
    expect(() =>
      combineViewPredictions({ primaryView, primary, companion: { ...primary, maps: new Float32Array(5) } }),
    ).toThrow(/companion maps must hold \[2, 12, 12\] values, got 5/);
  });
});

describe('runCfaOnCategory with ensemble cfa++', () => {
  let root: string;
  beforeAll(async () => {
    root = await tinyDiscCategory('cfa-ensemble-', 3);
  });

  // a quarter of the 4 train images held out for thresholds; the 3 left make one short batch
  const base = {
    training: { epochs: 1, dropLast: false },
    memoryBank: { gammaC: 2 },
    descriptor: { gammaD: 2 },
    scoring: { sigma: 1 },
    calibration: { holdout: 0.25 },
  };

  it.each([
    ['center-crop', { kind: 'center-crop', resize: 64, crop: 56 }, ['center-crop:64:56', 'resize:56']],
    ['rd-mvtec', { kind: 'rd-mvtec', resize: 64, crop: 56, seed: 3 }, ['rd-mvtec:64:56:10:3', 'rd-mvtec:56:56:10:3']],
  ] as const)(
    '%s: combined map = mean(primary, aligned companion); the primary is the plain CFA model',
    async (_name, view, views) => {
      const engine = await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 1 });
      const primaryEpochs: number[] = [],
        companionEpochs: number[] = [];
      const companionPhases = new Set<string>();
      const config = CfaConfigSchema.parse({ ...base, view, ensemble: 'cfa++' });
      const run = await runCfaOnCategory({
        config,
        root,
        category: 'disc',
        engine,
        onEpoch: (e) => primaryEpochs.push(e.epoch),
        onCompanionEpoch: (e) => companionEpochs.push(e.epoch),
        onProgress: (e) => e.view === 'companion' && companionPhases.add(e.phase),
      });
      const ensemble = run.ensemble!;
      expect(ensemble.kind).toBe('cfa++');
      expect(ensemble.views).toEqual(views);
      expect(primaryEpochs).toEqual([1]);
      expect(companionEpochs).toEqual([1]);
      // 'calibrate': the companion scores the held-out train images too (CFA++ thresholds are the combined maps')
      expect([...companionPhases].sort()).toEqual([
        'bank',
        'calibrate',
        'embed-test',
        'embed-train',
        'predict',
        'train',
      ]);
      expect(run.history).toBe(ensemble.primary.history);
      expect(ensemble.companion.history).toHaveLength(1);

      const { size, maps, ids } = run.prediction;
      const n = run.test.length;
      expect(size).toBe(56);
      expect(ids).toEqual(run.test.map((s) => s.ref.id));
      const primary = ensemble.primary.prediction,
        companion = ensemble.companion.prediction;
      expect(companion.size).toBe(56);
      let companionChangesTheMap = 0;
      for (let i = 0; i < n; i++) {
        const aligned = alignCompanionMap({
          map: companion.maps.subarray(i * 56 * 56, (i + 1) * 56 * 56),
          side: 56,
          primary: config.view,
          sampleId: ids[i],
        });
        const p = primary.maps.subarray(i * size * size, (i + 1) * size * size);
        const mean = Float32Array.from(p, (v, j) => (v + aligned[j]) / 2);
        const got = maps.subarray(i * size * size, (i + 1) * size * size);
        expect(maxAbsDiff(got, mean), `image ${ids[i]}`).toBeLessThanOrEqual(1e-6 * Math.max(...mean));
        expect(run.prediction.imageScores[i]).toBe(Math.max(...got));
        companionChangesTheMap = Math.max(companionChangesTheMap, maxAbsDiff(got, p));
      }
      expect(companionChangesTheMap).toBeGreaterThan(0);

      // the primary model is exactly the plain CFA run's
      const plain = await runCfaOnCategory({
        config: CfaConfigSchema.parse({ ...base, view }),
        root,
        category: 'disc',
        engine,
      });
      expect(plain.ensemble).toBeUndefined();
      expect(maxAbsDiff(primary.maps, plain.prediction.maps)).toBeLessThanOrEqual(
        1e-6 * Math.max(...plain.prediction.maps),
      );
      expect(run.summary.radius).toBe(plain.summary.radius);
      const t = run.timings,
        tp = ensemble.primary.timings,
        tc = ensemble.companion.timings;
      expect(t.trainSeconds).toBeCloseTo(tp.trainSeconds + tc.trainSeconds, 9);
      expect(t.predictSeconds).toBeGreaterThanOrEqual(tp.predictSeconds + tc.predictSeconds);
    },
  );

  it('a resize view has no companion: fails before any work', async () => {
    const engine = await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 1 });
    const config = {
      ...CfaConfigSchema.parse({ ...base, view: { kind: 'resize', size: 56 } }),
      ensemble: 'cfa++' as const,
    };
    await expect(runCfaOnCategory({ config, root, category: 'disc', engine })).rejects.toThrow(
      /resize:56 is already resize-only and has no companion/,
    );
    expect(
      CfaConfigSchema.safeParse({ view: { kind: 'resize' }, ensemble: 'cfa++' }).error?.issues.map((i) => i.path),
    ).toEqual([['ensemble']]);
  });
});
