/**
 * Vega-Lite specs of one run's curves: the image and pixel ROC curves in one chart (with the
 * chance diagonal), and the PRO curve with its FPR 0.3 integration limit and the area P-AUPRO
 * measures shaded (MVTec AD's P-AUPRO = that area / 0.3).
 *
 * @example
 * ```ts
 * await writeChart('plots/roc.png', rocChartSpec({ image, pixel, subtitle: 'fleece · ResNet-18 · att+rep' }));
 * ```
 */
import type { TopLevelSpec } from './render-chart';

export interface CurveInput {
  points: { x: number; y: number }[];
  /** The area metric, in [0, 1]. */
  area: number;
}

const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(1) : '—');

export function rocChartSpec({
  image,
  pixel,
  subtitle,
}: {
  image?: CurveInput;
  pixel?: CurveInput;
  subtitle: string[];
}): TopLevelSpec {
  const values = [
    ...(image?.points.map((p) => ({ fpr: p.x, tpr: p.y, curve: `image (I-AUROC ${pct(image.area)})` })) ?? []),
    ...(pixel?.points.map((p) => ({ fpr: p.x, tpr: p.y, curve: `pixel (P-AUROC ${pct(pixel.area)})` })) ?? []),
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'ROC curves', subtitle },
    width: 300,
    height: 300,
    layer: [
      {
        data: {
          values: [
            { fpr: 0, tpr: 0 },
            { fpr: 1, tpr: 1 },
          ],
        },
        mark: { type: 'line', strokeDash: [4, 4], color: '#999', strokeWidth: 1 },
        encoding: { x: { field: 'fpr', type: 'quantitative' }, y: { field: 'tpr', type: 'quantitative' } },
      },
      {
        data: { values },
        mark: { type: 'line', strokeWidth: 2, interpolate: 'linear' },
        encoding: {
          x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] } },
          y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] } },
          color: {
            field: 'curve',
            type: 'nominal',
            title: null,
            legend: { orient: 'bottom', direction: 'vertical' },
          },
          order: { field: 'fpr', type: 'quantitative' },
        },
      },
    ],
  };
}

export function proChartSpec({
  curve,
  fprLimit = 0.3,
  subtitle,
}: {
  curve: CurveInput;
  fprLimit?: number;
  subtitle: string[];
}): TopLevelSpec {
  const values = curve.points.map((p) => ({ fpr: p.x, pro: p.y }));
  const x = {
    field: 'fpr',
    type: 'quantitative' as const,
    title: 'false positive rate (normal pixels)',
    scale: { domain: [0, 1] },
  };
  const y = { field: 'pro', type: 'quantitative' as const, title: 'per-region overlap', scale: { domain: [0, 1] } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `PRO curve · P-AUPRO ${pct(curve.area)}`,
      subtitle: [...subtitle, `P-AUPRO = shaded area to FPR ${fprLimit} / ${fprLimit}`],
    },
    width: 300,
    height: 300,
    data: { values },
    layer: [
      {
        transform: [{ filter: `datum.fpr <= ${fprLimit}` }],
        mark: { type: 'area', opacity: 0.25, color: '#4c78a8' },
        encoding: { x, y, order: { field: 'fpr', type: 'quantitative' } },
      },
      {
        mark: { type: 'line', strokeWidth: 2, color: '#4c78a8' },
        encoding: { x, y, order: { field: 'fpr', type: 'quantitative' } },
      },
      {
        data: { values: [{ fpr: fprLimit }] },
        mark: { type: 'rule', color: '#d62728', strokeDash: [5, 3], strokeWidth: 1.5 },
        encoding: { x: { field: 'fpr', type: 'quantitative' } },
      },
      {
        data: { values: [{ fpr: fprLimit, label: `FPR limit ${fprLimit}` }] },
        mark: { type: 'text', align: 'left', dx: 4, dy: 8, color: '#d62728', baseline: 'top' },
        encoding: { x: { field: 'fpr', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
      },
    ],
  };
}
