/**
 * One test image's panel as a Vega-Lite figure (paper Fig. 4): the rasters of `heatmap-panel.ts`
 * side by side as image marks, each with its title, and a caption saying what the outlines are —
 * and, when the run has no deployed threshold yet, that the segmentation panel is left out.
 *
 * @example
 * ```ts
 * await writeChart('heatmaps/crack_002.png', await heatmapFigureSpec({ rasters, size: 224, title, threshold }), 1);
 * ```
 */
import { encodePng } from '@cfa/data';
import type { HeatmapRasters } from './heatmap-panel';
import type { TopLevelSpec } from './render-chart';

export interface HeatmapFigureParams {
  rasters: HeatmapRasters;
  size: number;
  /** e.g. `crack/002 · defect · score 2.31`. */
  title: string;
  /** The deployed pixel threshold the segmentation panel used, if any. */
  threshold?: number;
}

async function dataUrl(rgb: Uint8Array, size: number): Promise<string> {
  const png = await encodePng({ data: rgb, width: size, height: size, channels: 3 });
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}

export async function heatmapFigureSpec({
  rasters,
  size,
  title,
  threshold,
}: HeatmapFigureParams): Promise<TopLevelSpec> {
  const panels: [string, Uint8Array][] = [
    ['input', rasters.image],
    ['ground truth', rasters.truth],
    ['anomaly map', rasters.overlay],
  ];
  if (rasters.segmentation && threshold !== undefined)
    panels.push([`predicted, t = ${threshold.toPrecision(4)}`, rasters.segmentation]);
  const caption =
    rasters.segmentation && threshold !== undefined
      ? [
          'green: ground-truth outline; red: pixels scoring above the deployed threshold t',
          '(t calibrated on held-out normal train images)',
        ]
      : [
          'green: ground-truth outline. No deployed threshold in this run,',
          'so no predicted-segmentation panel (drawn when the run has one)',
        ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle: caption },
    spacing: 8,
    hconcat: await Promise.all(
      panels.map(async ([name, rgb]) => ({
        title: { text: name, fontSize: 11, anchor: 'middle' as const },
        width: size,
        height: size,
        data: { values: [{ url: await dataUrl(rgb, size) }] },
        mark: {
          type: 'image' as const,
          width: size,
          height: size,
          aspect: false,
          align: 'left' as const,
          baseline: 'top' as const,
        },
        encoding: {
          url: { field: 'url', type: 'nominal' as const },
          x: { value: 0 },
          y: { value: 0 },
        },
      })),
    ),
  };
}
