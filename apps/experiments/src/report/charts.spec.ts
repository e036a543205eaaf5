/**
 * Every chart spec renders through Vega-Lite → Vega → SVG with what it must show: curve names with
 * their areas, the FPR limit, per-category bars with one bar per compared value.
 */
import { describe, expect, it } from 'vitest';
import type { CellStats } from './aggregate-cells';
import { categoryBarsSpec } from './category-bars';
import { proChartSpec, rocChartSpec } from './curve-charts';
import { chartPng, chartSvg } from './render-chart';

const line = [
  { x: 0, y: 0 },
  { x: 0.2, y: 0.7 },
  { x: 1, y: 1 },
];

describe('chart specs', () => {
  it('ROC: both curves with their AUROC in the legend, and the chance diagonal', async () => {
    const svg = await chartSvg(
      rocChartSpec({ image: { points: line, area: 0.712 }, pixel: { points: line, area: 0.93 }, subtitle: ['a', 'b'] }),
    );
    expect(svg).toContain('image (I-AUROC 71.2)');
    expect(svg).toContain('pixel (P-AUROC 93.0)');
    expect(svg).toContain('false positive rate');
  });

  it('PRO: the P-AUPRO in the title and the FPR 0.3 limit marked', async () => {
    const svg = await chartSvg(proChartSpec({ curve: { points: line, area: 0.456 }, subtitle: ['a'] }));
    expect(svg).toContain('PRO curve · P-AUPRO 45.6');
    expect(svg).toContain('FPR limit 0.3');
    expect(svg).toContain('shaded area to FPR 0.3 / 0.3');
  });

  it('category bars: one bar per category and compared value, panels per row value, PNG bytes', async () => {
    const stats: CellStats[] = [];
    for (const row of ['resnet18', 'wide_resnet50_2'])
      for (const col of ['none', 'att+rep'])
        for (const group of ['fleece', 'chip', 'all'])
          stats.push({ row, col, group, metric: 'imageAuroc', mean: 0.6, std: 0.05, seeds: 3, categories: 1 });
    const spec = categoryBarsSpec({
      stats,
      metric: 'imageAuroc',
      categories: ['fleece', 'chip'],
      rowAxis: 'backbone.name',
      colAxis: 'loss.terms',
      title: 'ablation-loss: I-AUROC per category',
    });
    const svg = await chartSvg(spec);
    for (const text of ['fleece', 'chip', 'ResNet-18', 'WRN50-2', 'att+rep', 'I-AUROC (%)'])
      expect(svg).toContain(text);
    // 2 panels × 2 categories × 2 loss values, 'all' left out
    expect(svg.match(/aria-roledescription="bar"/g)).toHaveLength(8);
    const png = await chartPng(spec);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });
});
