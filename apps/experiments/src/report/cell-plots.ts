/**
 * The pictures of one run, written into its folder (and so logged as MLflow artifacts with it):
 *
 * - `plots/roc.png`: image and pixel ROC curves;
 * - `plots/pro.png`: the PRO curve with the FPR 0.3 limit of P-AUPRO;
 * - `plots/feature-space.png`: patch features and memory bank before / after adaptation (Fig. 3);
 * - `heatmaps/<id>.png`: input | ground truth | anomaly map | predicted segmentation at the
 *   deployed threshold when the run has one (Fig. 4), for the most and least anomalous images.
 *
 * A picture that cannot be drawn is reported through `log` and skipped: the run's numbers stand
 * without it.
 */
import { join } from 'node:path';
import type { EngineSelection } from '@cfa/tensor-runtime';
import type { CategoryRun } from '@cfa/method-kit';
import { MetricUndefinedError, proCurve, rocCurve } from '@cfa/metrics';
import { methodOf } from '../methods/registry';
import { methodConfigOf, type RunConfig } from '../run/run-config';
import { valueLabel } from './axis-labels';
import { proChartSpec, rocChartSpec } from './curve-charts';
import { curvePoints } from './curve-points';
import { featureSpaceChartSpec, featureSpacePoints } from './feature-space';
import { heatmapFigureSpec } from './heatmap-figure';
import { heatmapRasters } from './heatmap-panel';
import { writeChart } from './render-chart';

export interface CellPlotsParams {
  outDir: string;
  run: CategoryRun;
  config: RunConfig;
  engine: EngineSelection;
  /** The run's metrics (areas shown in the titles). */
  metrics: { imageAuroc: number; pixelAuroc: number; pixelAupro: number };
  /** The test masks stacked [n, size, size]. */
  masks: Uint8Array;
  labels: Uint8Array;
  log?: (line: string) => void;
}

/** Test images chosen for panels: the most and least anomalous by score, defects first. */
export function heatmapChoice(run: Pick<CategoryRun, 'prediction' | 'test'>, count: number): number[] {
  const order = run.prediction.ids
    .map((_, i) => i)
    .sort((a, b) => run.prediction.imageScores[b] - run.prediction.imageScores[a]);
  const defects = order.filter((i) => run.test[i].ref.label === 1);
  const good = order.filter((i) => run.test[i].ref.label === 0);
  const picked = new Set<number>();
  const want = Math.min(count, order.length);
  for (let k = 0; picked.size < want && k < order.length; k++) {
    if (defects[k] !== undefined && picked.size < want) picked.add(defects[k]);
    if (good[k] !== undefined && picked.size < want) picked.add(good[k]);
  }
  return [...picked];
}

/**
 * Two short lines naming the run (Vega sizes a chart by an estimate of its title's width, so one
 * long line would widen the picture): `fleece · ResNet-18 (random init) · CFA` and the method's own
 * settings with the seed (`loss att+rep · 3 epochs · γd 1, γc 1 · seed 0`).
 */
export function runSubtitle(config: RunConfig): string[] {
  const method = methodOf(config);
  return [
    [
      config.dataset.category,
      valueLabel('backbone.name', config.backbone.name) + (config.backbone.weights ? '' : ' (random init)'),
      `${method.label}${config.ensemble === 'cfa++' ? '++' : ''}`,
    ].join(' · '),
    [method.describeConfig(methodConfigOf(config)), `seed ${config.seed}`].join(' · '),
  ];
}

export async function writeCellPlots(params: CellPlotsParams): Promise<string[]> {
  const { outDir, run, config, metrics, masks, labels, log = () => undefined } = params;
  const written: string[] = [];
  const subtitle = runSubtitle(config);
  const attempt = async (file: string, draw: () => Promise<void>) => {
    try {
      await draw();
      written.push(file);
    } catch (error) {
      log(`could not draw ${file}: ${(error as Error).message}`);
    }
  };
  const curve = <T>(compute: () => T): T | undefined => {
    try {
      return compute();
    } catch (error) {
      if (error instanceof MetricUndefinedError) return undefined;
      throw error;
    }
  };

  await attempt('plots/roc.png', async () => {
    const image = curve(() => rocCurve({ scores: run.prediction.imageScores, labels }));
    const pixel = curve(() => rocCurve({ scores: run.prediction.maps, labels: masks }));
    await writeChart(
      join(outDir, 'plots', 'roc.png'),
      rocChartSpec({
        image: image && { points: curvePoints({ x: image.fpr, y: image.tpr }), area: metrics.imageAuroc },
        pixel: pixel && { points: curvePoints({ x: pixel.fpr, y: pixel.tpr }), area: metrics.pixelAuroc },
        subtitle,
      }),
    );
  });

  await attempt('plots/pro.png', async () => {
    const size = run.prediction.size;
    const pro = proCurve({ maps: run.prediction.maps, masks, count: labels.length, height: size, width: size });
    await writeChart(
      join(outDir, 'plots', 'pro.png'),
      proChartSpec({ curve: { points: curvePoints({ x: pro.fpr, y: pro.pro }), area: metrics.pixelAupro }, subtitle }),
    );
  });

  // paper Fig. 3, for methods that adapt features
  if (run.model.method.featureSpace)
    await attempt('plots/feature-space.png', async () => {
      const points = await featureSpacePoints({ run, engine: params.engine });
      // 1.5×, not 2×: rasterising some 2000 translucent points dominates this picture's cost
      await writeChart(join(outDir, 'plots', 'feature-space.png'), featureSpaceChartSpec({ points, subtitle }), 1.5);
    });

  const { maps, size } = run.prediction;
  let lo = Infinity,
    hi = -Infinity;
  for (const v of maps) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const threshold = run.thresholds?.pixel;
  for (const i of heatmapChoice(run, config.heatmaps)) {
    const sample = run.test[i];
    const file = `heatmaps/${sample.ref.id.replaceAll('/', '_')}.png`;
    await attempt(file, async () => {
      const rasters = heatmapRasters({
        image: sample.image,
        mask: sample.mask,
        map: maps.subarray(i * size * size, (i + 1) * size * size),
        size,
        range: [lo, hi],
        threshold,
      });
      const title = `${config.dataset.category}/${sample.ref.id} · ${sample.ref.label ? 'defective' : 'good'} · image score ${run.prediction.imageScores[i].toPrecision(4)}`;
      await writeChart(join(outDir, file), await heatmapFigureSpec({ rasters, size, title, threshold }), 1);
    });
  }
  return written;
}
