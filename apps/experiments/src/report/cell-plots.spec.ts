/**
 * A run's pictures on a tiny standard-set category: every file is a PNG; the heatmap panel gains
 * the predicted-segmentation panel only when the run carries a deployed threshold; the
 * feature-space picture moves the patches only when the descriptor trained.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { selectEngine, type EngineSelection } from '@cfa/tensor-runtime';
import { generateSyntheticDataset } from '@cfa/data';
import { type CfaConfig, type CfaRun as CategoryRun, runCfaOnCategory } from '@cfa/cfa';
import { beforeAll, describe, expect, it } from 'vitest';
import { methodConfigOf, RunConfigSchema, type RunConfig } from '../run/run-config';
import { TINY_BASE } from '../testing/tiny-dataset';
import { writeCellPlots } from './cell-plots';
import { featureSpacePoints } from './feature-space';
import { heatmapFigureSpec } from './heatmap-figure';
import { heatmapRasters } from './heatmap-panel';

let root: string;
let engine: EngineSelection;
const configOf = (terms: string): RunConfig =>
  RunConfigSchema.parse({
    dataset: { category: 'chip', root: 'unused' },
    cfa: { ...TINY_BASE, loss: { terms }, memoryBank: { gammaC: 2 } },
    heatmaps: 2,
  });
const runs = new Map<string, CategoryRun>();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cfa-plots-'));
  await generateSyntheticDataset({
    root,
    categories: ['chip'],
    imageSize: 64,
    trainCount: 4,
    testGoodCount: 2,
    testDefectCount: 4,
  });
  engine = await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 2 });
  for (const terms of ['none', 'att+rep'])
    runs.set(
      terms,
      await runCfaOnCategory({ config: methodConfigOf(configOf(terms)) as CfaConfig, root, category: 'chip', engine }),
    );
}, 120_000);

function stacked(run: CategoryRun) {
  const size = run.inputSize;
  const masks = new Uint8Array(run.test.length * size * size);
  run.test.forEach((s, i) => masks.set(s.mask, i * size * size));
  return { masks, labels: Uint8Array.from(run.test, (s) => s.ref.label) };
}

const metrics = { imageAuroc: 0.5, pixelAuroc: 0.5, pixelAupro: 0.5 };

describe('writeCellPlots', () => {
  it('writes the ROC, PRO and feature-space charts and one heatmap panel per chosen image, all PNG', async () => {
    const run = runs.get('att+rep')!;
    const outDir = await mkdtemp(join(tmpdir(), 'cfa-plots-out-'));
    const logged: string[] = [];
    const written = await writeCellPlots({
      outDir,
      run,
      config: configOf('att+rep'),
      engine,
      metrics,
      ...stacked(run),
      log: (l) => logged.push(l),
    });
    expect(logged).toEqual([]);
    expect(written.filter((f) => f.startsWith('plots/')).sort()).toEqual([
      'plots/feature-space.png',
      'plots/pro.png',
      'plots/roc.png',
    ]);
    expect(written.filter((f) => f.startsWith('heatmaps/'))).toHaveLength(2);
    for (const file of written) {
      const meta = await sharp(join(outDir, file)).metadata();
      expect(meta.format, file).toBe('png');
      expect(meta.width!, file).toBeGreaterThan(100);
    }
  });

  it('the heatmap panel draws the predicted segmentation only when the run has a deployed threshold, and says so', async () => {
    const run = runs.get('att+rep')!;
    const size = run.inputSize;
    const map = run.prediction.maps.subarray(0, size * size);
    const input = { image: run.test[0].image, mask: run.test[0].mask, map, size, range: [0, 1] as [number, number] };
    const without = heatmapRasters(input);
    expect(without.segmentation).toBeUndefined();
    const median = Float32Array.from(map).sort()[Math.floor(map.length / 2)];
    const withT = heatmapRasters({ ...input, threshold: median });
    // about half of the pixels score ≥ the median: those are tinted red, the rest unchanged
    let tinted = 0;
    for (let p = 0; p < size * size; p++) if (withT.segmentation![p * 3] !== without.image[p * 3]) tinted++;
    expect(tinted / (size * size)).toBeGreaterThan(0.3);
    const plain = await heatmapFigureSpec({ rasters: without, size, title: 't' });
    const segmented = await heatmapFigureSpec({ rasters: withT, size, title: 't', threshold: median });
    expect(JSON.stringify(plain)).toMatch(/No deployed threshold in this run,.*so no predicted-segmentation panel/);
    expect('hconcat' in plain && plain.hconcat).toHaveLength(3);
    expect('hconcat' in segmented && segmented.hconcat).toHaveLength(4);
    expect(JSON.stringify(segmented)).toMatch(/red: pixels scoring above the deployed threshold/);

    // through writeCellPlots: the run's `thresholds.pixel` reaches the panel (its red outline)
    const outDir = await mkdtemp(join(tmpdir(), 'cfa-plots-out-'));
    const redPixels = async (r: CategoryRun) => {
      const [panel] = (
        await writeCellPlots({ outDir, run: r, config: configOf('att+rep'), engine, metrics, ...stacked(r) })
      ).filter((f) => f.startsWith('heatmaps/'));
      const { data, info } = await sharp(join(outDir, panel)).raw().toBuffer({ resolveWithObject: true });
      let n = 0;
      for (let i = 0; i < data.length; i += info.channels)
        if (data[i] >= 245 && data[i + 1] >= 30 && data[i + 1] <= 50 && data[i + 2] >= 30 && data[i + 2] <= 50) n++;
      return n;
    };
    expect(await redPixels(run)).toBe(0);
    expect(
      await redPixels({
        ...run,
        thresholds: {
          image: 1,
          pixel: median,
          imageFpr: 0.01,
          pixelFpr: 0.01,
          holdoutImages: 2,
          method: 'holdout-quantile',
        },
      }),
    ).toBeGreaterThan(20);
  });
});

describe('featureSpacePoints', () => {
  it('untrained (loss none): the recomputed initial descriptor is the fitted one, so before = after', async () => {
    const points = await featureSpacePoints({ run: runs.get('none')!, engine });
    const before = points.filter((p) => p.panel === 'before adaptation');
    const after = points.filter((p) => p.panel === 'after adaptation');
    expect(after).toHaveLength(before.length);
    after.forEach((p, i) => {
      expect(p.kind).toBe(before[i].kind);
      expect(p.x).toBeCloseTo(before[i].x, 4);
      expect(p.y).toBeCloseTo(before[i].y, 4);
    });
    const kinds = new Set(points.map((p) => p.kind));
    expect([...kinds].sort()).toEqual(['abnormal patch', 'memory bank centre', 'normal patch']);
  });

  it('trained: the centres stay, the patches move', async () => {
    const points = await featureSpacePoints({ run: runs.get('att+rep')!, engine });
    const of = (panel: string, kind: string) => points.filter((p) => p.panel === panel && p.kind === kind);
    const centresBefore = of('before adaptation', 'memory bank centre');
    expect(of('after adaptation', 'memory bank centre')).toEqual(
      centresBefore.map((p) => ({ ...p, panel: 'after adaptation' })),
    );
    const moved = of('after adaptation', 'normal patch').filter((p, i) => {
      const q = of('before adaptation', 'normal patch')[i];
      return Math.hypot(p.x - q.x, p.y - q.y) > 1e-3;
    });
    expect(moved.length).toBeGreaterThan(0);
  });
});
