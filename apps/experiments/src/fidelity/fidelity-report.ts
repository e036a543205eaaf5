/**
 * Ours beside the reference code's, epoch by epoch: for each metric the reference's mean ± std
 * over its seeds and ours, with two verdicts.
 *
 * - The mean: our mean inside the reference's mean ± 2 std, beside an exact permutation test of
 *   the difference of means over the seeds (permutation-test.ts: the band has zero width where
 *   every reference seed saturates).
 * - The spread (issue #26): our std within 2× the reference's either way, beside a permutation
 *   test of the variance ratio of the median-centred seeds (`spreadPValue`).
 *
 * Each verdict passes inside its bound, or when p ≥ 0.05 and the seed counts could have given
 * p < 0.05 (with 3 + 3 seeds the tests can never reject, so only the bounds count there). The
 * learned radius r must equal the reference's to 1e-6 (its updates depend only on the number of
 * steps and on which hinges are active, not on the seed). A method without a radius (PatchCore) is
 * compared on the metrics alone.
 */
import { formatTable } from '../report/text-table';
import { permutationPValue, smallestPValue, spreadPValue } from './permutation-test';
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
/** Our seed-to-seed std may be this many times the reference's, or this many times smaller. */
export const SPREAD_FACTOR = 2;

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

export interface SpreadComparison {
  /** Our std ÷ the reference's (1 when both are 0, Infinity when only theirs is). */
  ratio: number;
  /** Within 1/SPREAD_FACTOR … SPREAD_FACTOR. */
  within: boolean;
  /** `spreadPValue` over the seeds. */
  pValue: number;
  agrees: boolean;
}

export interface MetricComparison {
  official: Spread;
  ours: Spread;
  /** Our mean inside the reference's mean ± 2 std. */
  inside: boolean;
  /** `permutationPValue` (difference of means) over the seeds. */
  pValue: number;
  spread: SpreadComparison;
  /** The mean and the spread both agree. */
  agrees: boolean;
  /** Per seed, in seed order: the reference's and ours. */
  values: { official: number[]; ours: number[] };
}

export interface EpochComparison {
  epoch: number;
  metrics: Record<FidelityMetric, MetricComparison>;
  /** Absent where neither side has a radius (PatchCore). */
  radius?: { official: Spread; ours: Spread; equal: boolean };
}

/** A test's p counts as agreement only when these seed counts could have rejected. */
const passes = (pValue: number, n: number, m: number) => smallestPValue(n, m) < SIGNIFICANCE && pValue >= SIGNIFICANCE;

function spreadRatio(ours: Spread, official: Spread): number {
  if (official.std === 0) return ours.std === 0 ? 1 : Infinity;
  return ours.std / official.std;
}

/** The two verdicts for one metric's per-seed values (every method's fidelity check uses it). */
export function compareMetric(officialValues: number[], ourValues: number[]): MetricComparison {
  const o = spread(officialValues);
  const u = spread(ourValues);
  // a zero spread (every seed the same) leaves only rounding room
  const inside = Math.abs(u.mean - o.mean) <= Math.max(2 * o.std, 1e-9);
  const pValue = permutationPValue(ourValues, officialValues);
  const ratio = spreadRatio(u, o);
  const within = ratio <= SPREAD_FACTOR && ratio >= 1 / SPREAD_FACTOR;
  const spreadP = spreadPValue(ourValues, officialValues);
  const n = ourValues.length;
  const m = officialValues.length;
  const spreadAgrees = within || passes(spreadP, n, m);
  return {
    official: o,
    ours: u,
    inside,
    pValue,
    spread: { ratio, within, pValue: spreadP, agrees: spreadAgrees },
    agrees: (inside || passes(pValue, n, m)) && spreadAgrees,
    values: { official: officialValues, ours: ourValues },
  };
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
    const theirRadii = theirs.map((t) => t.radius);
    const ourRadii = mine.map((t) => t.radius);
    if (theirRadii.every((r) => r === undefined) && ourRadii.every((r) => r === undefined)) {
      out.push({ epoch: theirs[0].epoch, metrics });
      continue;
    }
    // one side with a radius and the other without is a mismatch (NaN: never equal)
    const ro = spread(theirRadii.map((r) => r ?? NaN));
    const ru = spread(ourRadii.map((r) => r ?? NaN));
    const equal = Math.max(ro.max, ru.max) - Math.min(ro.min, ru.min) <= RADIUS_TOLERANCE;
    out.push({ epoch: theirs[0].epoch, metrics, radius: { official: ro, ours: ru, equal } });
  }
  return out;
}

/** Epoch 0 is the evaluation before the first step. */
const epochLabel = (epoch: number) => (epoch === 0 ? 'untrained' : String(epoch));
/** A fraction as a percentage with one decimal, and a spread as mean ± std in percent. */
export const pct = (v: number) => (100 * v).toFixed(1);
export const pm = (s: Spread) => `${pct(s.mean)} ± ${pct(s.std)}`;

const ratioText = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : '∞');

/** What the verdict columns of a fidelity table mean (CFA's, PatchCore's and CRAD's tables alike). */
export const FIDELITY_LEGEND = [
  `mean ± 2 std, perm. p: our mean inside the reference's mean ± 2 std; exact permutation test of the difference of means over the seeds`,
  `std ratio, spread p: our std ÷ the reference's (! outside 1/${SPREAD_FACTOR}–${SPREAD_FACTOR}×); permutation test of the variance ratio of the median-centred seeds (Brown–Forsythe form: no normality assumed, unlike the F test)`,
  `agrees: the mean and the spread each inside their bound, or p ≥ ${SIGNIFICANCE} where the seed counts could have rejected`,
];

/** The verdict columns every fidelity table ends with (CFA's, PatchCore's and CRAD's), explained by FIDELITY_LEGEND. */
export const VERDICT_HEADERS = ['mean ± 2 std', 'perm. p', 'std ratio', 'spread p', 'agrees'];

/**
 * A metric's verdict as VERDICT_HEADERS' cells: inside the band or not, the mean's permutation p,
 * the std ratio (marked ! outside 1/2–2×), the spread's permutation p, and whether both agree.
 */
export function verdictCells(c: MetricComparison): string[] {
  return [
    c.inside ? 'inside' : 'OUTSIDE',
    c.pValue.toFixed(2),
    `${ratioText(c.spread.ratio)}${c.spread.within ? '' : ' !'}`,
    c.spread.pValue.toFixed(2),
    c.agrees ? 'yes' : 'NO',
  ];
}

/**
 * One row per epoch and metric: the reference's mean ± std, ours, the mean's verdict (band,
 * permutation p), the spread's (std ratio, spread p), and whether both agree.
 */
export function fidelityTable(rows: EpochComparison[], options: { markdown?: boolean } = {}): string {
  const body: string[][] = [];
  for (const r of rows) {
    for (const m of FIDELITY_METRICS) {
      const c = r.metrics[m];
      body.push([epochLabel(r.epoch), METRIC_TITLES[m], pm(c.official), pm(c.ours), ...verdictCells(c)]);
    }
    if (r.radius)
      body.push([
        epochLabel(r.epoch),
        'r',
        r.radius.official.mean.toPrecision(8),
        r.radius.ours.mean.toPrecision(8),
        r.radius.equal ? `equal (1e-6)` : 'DIFFERENT',
        '',
        '',
        '',
        r.radius.equal ? 'yes' : 'NO',
      ]);
  }
  return formatTable(
    ['epoch', 'metric', 'reference code: mean ± std', 'ours: mean ± std', ...VERDICT_HEADERS],
    body,
    options,
  );
}

/** Every seed's value (percent), in seed order, both sides: what the means and spreads summarise. */
export function perSeedTable(rows: EpochComparison[], options: { markdown?: boolean } = {}): string {
  const list = (values: number[]) => values.map(pct).join(' ');
  const body = rows.flatMap((r) =>
    FIDELITY_METRICS.map((m) => [
      epochLabel(r.epoch),
      METRIC_TITLES[m],
      list(r.metrics[m].values.official),
      list(r.metrics[m].values.ours),
    ]),
  );
  return formatTable(['epoch', 'metric', 'reference code, per seed', 'ours, per seed'], body, options);
}

/** r equal on every epoch, and every metric's mean and spread agree. */
export function allAgree(rows: EpochComparison[]): boolean {
  return rows.every((r) => (r.radius?.equal ?? true) && FIDELITY_METRICS.every((m) => r.metrics[m].agrees));
}
