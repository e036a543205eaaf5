/**
 * Ours beside the reference code's, epoch by epoch: for each metric the reference's mean ± std
 * over its seeds and ours, with the verdict the issue asks for — our mean inside the reference's
 * mean ± 2 std — beside an exact permutation test over the seeds (permutation-test.ts: the band has
 * zero width where every reference seed saturates), and the learned radius r, which must equal the
 * reference's to 1e-6 (its updates depend only on the number of steps and on which hinges are
 * active, not on the seed). A metric agrees when it is inside the band, or when p ≥ 0.05 and the
 * seed counts could have given p < 0.05 (with 3 + 3 seeds the test can never reject, so only the
 * band counts there).
 */
import { formatTable } from '../report/text-table';
import { permutationPValue, smallestPValue } from './permutation-test';
import {
  FIDELITY_METRICS,
  type FidelityEpoch,
  type FidelityMetric,
  type OfficialResults,
  officialEpochs,
} from './fidelity-files';

export const METRIC_TITLES: Record<FidelityMetric, string> = {
  imageAuroc: 'I-AUROC',
  pixelAuroc: 'P-AUROC',
  pixelAupro: 'P-AUPRO',
  pixelProReference: 'P-PRO (ref)',
};

export const RADIUS_TOLERANCE = 1e-6;
/** Below this two-sided permutation p, ours and the reference's seeds differ. */
export const SIGNIFICANCE = 0.05;

export interface Spread {
  mean: number;
  /** Sample standard deviation (n − 1); 0 for one seed. */
  std: number;
  min: number;
  max: number;
}

export function spread(values: number[]): Spread {
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  const variance = values.length > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, std: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values) };
}

export interface MetricComparison {
  official: Spread;
  ours: Spread;
  /** Our mean inside the reference's mean ± 2 std. */
  inside: boolean;
  /** `permutationPValue` (difference of means) over the seeds. */
  pValue: number;
  agrees: boolean;
}

export interface EpochComparison {
  epoch: number;
  metrics: Record<FidelityMetric, MetricComparison>;
  radius: { official: Spread; ours: Spread; equal: boolean };
}

/** The verdict for one metric's per-seed values (every method's fidelity check uses it). */
export function compareMetric(officialValues: number[], ourValues: number[]): MetricComparison {
  const o = spread(officialValues);
  const u = spread(ourValues);
  // a zero spread (every seed the same) leaves only rounding room
  const inside = Math.abs(u.mean - o.mean) <= Math.max(2 * o.std, 1e-9);
  const pValue = permutationPValue(ourValues, officialValues);
  const testCanReject = smallestPValue(ourValues.length, officialValues.length) < SIGNIFICANCE;
  return { official: o, ours: u, inside, pValue, agrees: inside || (testCanReject && pValue >= SIGNIFICANCE) };
}

/** Per epoch: the reference's spread, ours, and the verdicts. Epochs both sides have. */
export function compareEpochs(official: OfficialResults, ours: FidelityEpoch[][]): EpochComparison[] {
  const officialRuns = officialEpochs(official);
  const epochs = Math.min(...officialRuns.map((r) => r.epochs.length), ...ours.map((r) => r.length));
  const out: EpochComparison[] = [];
  for (let e = 0; e < epochs; e++) {
    const theirs = officialRuns.map((r) => r.epochs[e]);
    const mine = ours.map((r) => r[e]);
    const metrics = {} as EpochComparison['metrics'];
    for (const m of FIDELITY_METRICS)
      metrics[m] = compareMetric(
        theirs.map((t) => t[m]),
        mine.map((t) => t[m]),
      );
    const ro = spread(theirs.map((t) => t.radius));
    const ru = spread(mine.map((t) => t.radius));
    const equal = Math.max(ro.max, ru.max) - Math.min(ro.min, ru.min) <= RADIUS_TOLERANCE;
    out.push({ epoch: theirs[0].epoch, metrics, radius: { official: ro, ours: ru, equal } });
  }
  return out;
}

/** Epoch 0 is the evaluation before the first step. */
const epochLabel = (epoch: number) => (epoch === 0 ? 'untrained' : String(epoch));
const pct = (v: number) => (100 * v).toFixed(1);
const pm = (s: Spread) => `${pct(s.mean)} ± ${pct(s.std)}`;

/** One row per epoch and metric: reference mean ± std, ours mean (min–max), verdict. */
export function fidelityTable(rows: EpochComparison[], options: { markdown?: boolean } = {}): string {
  const body: string[][] = [];
  for (const r of rows) {
    for (const m of FIDELITY_METRICS) {
      const c = r.metrics[m];
      body.push([
        epochLabel(r.epoch),
        METRIC_TITLES[m],
        pm(c.official),
        `${pct(c.ours.mean)} (${pct(c.ours.min)}–${pct(c.ours.max)})`,
        c.inside ? 'inside' : 'OUTSIDE',
        c.pValue.toFixed(2),
        c.agrees ? 'yes' : 'NO',
      ]);
    }
    body.push([
      epochLabel(r.epoch),
      'r',
      r.radius.official.mean.toPrecision(8),
      r.radius.ours.mean.toPrecision(8),
      r.radius.equal ? `equal (1e-6)` : 'DIFFERENT',
      '',
      r.radius.equal ? 'yes' : 'NO',
    ]);
  }
  return formatTable(
    ['epoch', 'metric', 'reference code: mean ± std', 'ours: mean (min–max)', 'mean ± 2 std', 'perm. p', 'agrees'],
    body,
    options,
  );
}

/** r equal on every epoch, and every metric inside the band or not significantly different. */
export function allAgree(rows: EpochComparison[]): boolean {
  return rows.every((r) => r.radius.equal && FIDELITY_METRICS.every((m) => r.metrics[m].agrees));
}
