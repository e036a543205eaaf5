/**
 * Every metric a sweep table can show, in one place: its column label, its MLflow key, its unit,
 * and which way is better. The sweep schema's metric names, the MLflow read-back and the tables'
 * headers, units legend and number format all come from this record, so a new metric column is
 * one line here — once the cell logs that MLflow key.
 *
 * @example
 * ```ts
 * METRIC_COLUMNS.pixelAuroc.label; // 'P-AUROC'
 * formatMetric('pixelAuroc', 0.9812); // '98.1'
 * ```
 */

export interface MetricColumn {
  /** Column header (short: tables fit 120 columns). */
  label: string;
  /** The child run's MLflow metric key. */
  mlflow: string;
  /** '%': a fraction in [0, 1] shown as a percentage; 'MB': bytes shown in 10⁶ bytes. */
  unit: '%' | 'img/s' | 's' | 'ms/img' | 'MB';
  /** What the number is, for the legend under a table. */
  meaning: string;
}

export const METRIC_COLUMNS = {
  imageAuroc: { label: 'I-AUROC', mlflow: 'image_auroc', unit: '%', meaning: 'image-level AUROC' },
  pixelAuroc: { label: 'P-AUROC', mlflow: 'pixel_auroc', unit: '%', meaning: 'pixel-level AUROC' },
  pixelAupro: { label: 'P-AUPRO', mlflow: 'pixel_aupro', unit: '%', meaning: 'area under the PRO curve to FPR 0.3' },
  pixelProReference: {
    label: 'P-PRO (ref)',
    mlflow: 'pixel_pro_reference',
    unit: '%',
    meaning: "the CFA reference code's PRO: 200 thresholds to FPR 0.3, both axes min-max rescaled (docs/defaults.md)",
  },
  imageF1Max: { label: 'I-F1max', mlflow: 'image_f1_max', unit: '%', meaning: 'best image-level F1' },
  pixelF1Max: { label: 'P-F1max', mlflow: 'pixel_f1_max', unit: '%', meaning: 'best pixel-level F1' },
  throughput: {
    label: 'img/s',
    mlflow: 'throughput_img_s',
    unit: 'img/s',
    meaning:
      'test images per second, embedding + scoring (this machine; the backbone only runs on a cold feature cache)',
  },
  scoreThroughput: {
    label: 'score img/s',
    mlflow: 'score_throughput_img_s',
    unit: 'img/s',
    meaning:
      'test images per second scored from the cached backbone features (descriptor, distances, map; this machine)',
  },
  trainSeconds: { label: 'train s', mlflow: 'train_seconds', unit: 's', meaning: 'training time' },
  fitMsPerImage: {
    label: 'fit ms/img',
    mlflow: 'fit_ms_per_image',
    unit: 'ms/img',
    meaning:
      'fit time per train image from the cached backbone features: memory bank / Gaussians / coreset plus training epochs (CFA++: both models; this machine)',
  },
  scoreMsPerImage: {
    label: 'score ms/img',
    mlflow: 'score_ms_per_image',
    unit: 'ms/img',
    meaning:
      'scoring time per test image from the cached backbone features: distances, map, blur (CFA++: both models; this machine)',
  },
  withinPositionShare: {
    label: 'within-pos.',
    mlflow: 'within_position_share',
    unit: '%',
    meaning:
      "share of the modelled features' spread (sum of squares) left within positions over the train images, 1 − R² of the position (per-position Gaussians: PaDiM, FYD; lower: a denser, more compact distribution per position, what FYD's alignment aims at; not a detection metric)",
  },
  bankMegabytes: {
    label: 'bank MB',
    mlflow: 'bank_bytes',
    unit: 'MB',
    meaning:
      'what scoring keeps per model, float32, in 10⁶ bytes (PaDiM: the Gaussians μ and Σ⁻¹; PatchCore: the coreset; CFA: the memory bank, without the weights of φ)',
  },
} as const satisfies Record<string, MetricColumn>;

export type MetricName = keyof typeof METRIC_COLUMNS;

export const METRIC_NAMES = Object.keys(METRIC_COLUMNS) as [MetricName, ...MetricName[]];

/** MLflow metric keys → report metric names. */
export const MLFLOW_METRIC_OF = Object.fromEntries(METRIC_NAMES.map((m) => [m, METRIC_COLUMNS[m].mlflow])) as Record<
  MetricName,
  string
>;

/** A metric's value as the tables print it: percentages with one decimal, rates with one, bytes in MB. */
export function metricValue(metric: MetricName, value: number): number {
  const unit = METRIC_COLUMNS[metric].unit;
  return unit === '%' ? 100 * value : unit === 'MB' ? value / 1e6 : value;
}

export function formatMetric(metric: MetricName, value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return metricValue(metric, value).toFixed(1);
}
