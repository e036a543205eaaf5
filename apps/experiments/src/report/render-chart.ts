/**
 * Vega-Lite specs → PNG files: Vega-Lite compiles the spec, Vega renders it headless to SVG, and
 * sharp (libvips + librsvg) rasterises the SVG. No chart is drawn by hand: every picture of the
 * project is a declarative spec (`*-chart.ts`, `*-figure.ts`) rendered here.
 *
 * @example
 * ```ts
 * await writeChart(join(outDir, 'plots', 'roc.png'), rocChartSpec({ ... }));
 * ```
 */
import sharp from 'sharp';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '@cfa/io';

export type { TopLevelSpec } from 'vega-lite';

/** Shared look: a readable sans font, no chart border, white background. */
export const CHART_CONFIG = {
  font: 'DejaVu Sans, Liberation Sans, Arial, sans-serif',
  background: 'white',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
  title: { fontSize: 14, subtitleFontSize: 11, anchor: 'start' as const, subtitleColor: '#444' },
};

/** The spec as an SVG string (Vega's headless renderer). */
export async function chartSvg(spec: TopLevelSpec): Promise<string> {
  const withConfig = { ...spec, config: { ...CHART_CONFIG, ...spec.config } } as TopLevelSpec;
  // warnings about a spec are the spec author's business (tests render every spec), not the run log's
  const quiet = vega.logger(vega.None);
  const view = new vega.View(vega.parse(compile(withConfig, { logger: quiet }).spec), {
    renderer: 'none',
    logLevel: vega.None,
  });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * The spec as PNG bytes.
 *
 * @param spec - a Vega-Lite spec with its data inline.
 * @param scale - pixels per SVG unit (default 2) — 2 for crisp text; 1 keeps embedded raster
 *   images at their own pixels.
 */
export async function chartPng(spec: TopLevelSpec, scale = 2): Promise<Buffer> {
  return sharp(Buffer.from(await chartSvg(spec)), { density: 72 * scale })
    .png()
    .toBuffer();
}

/** Renders the spec and writes the PNG atomically (its folder is created). */
export async function writeChart(path: string, spec: TopLevelSpec, scale = 2): Promise<void> {
  await writeFileAtomic(path, await chartPng(spec, scale));
}
