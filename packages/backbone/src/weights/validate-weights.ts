/**
 * Checks a loaded state dict against what a definition needs: missing, unexpected and
 * wrong-shaped keys are reported by name. A partial file is accepted only when asked
 * (`allowPartial`), and its missing parameters come from the seeded random init; wrong shapes and
 * unexpected keys are never accepted (they mean another architecture or width), so the message
 * suggests `--allow-partial` only where it helps. Non-finite values (NaN, ±Inf) are found here,
 * by tensor, rather than as a NaN loss after the memory bank is built.
 */
import type { BackboneDefinition } from '../architectures/net-builder';
import { summarizeDefinition } from '../architectures/param-spec';
import { formatShape, type StateDict } from './state-dict';

export interface WeightReport {
  missing: string[];
  unexpected: string[];
  wrongShape: { name: string; expected: number[]; found: number[] }[];
  /** Keys of the untapped part of a full torchvision file (layer4, fc): fine, not used. */
  unused: string[];
}

/** What to do about a report, given whether partial files were already allowed. */
function mismatchAdvice(report: WeightReport, allowPartial: boolean): string {
  if (report.wrongShape.length || report.unexpected.length) {
    const partial = allowPartial
      ? ' (--allow-partial fills missing parameters only; it cannot use wrong-shaped or unexpected ones)'
      : '';
    return `The file does not fit this backbone: check that --backbone / backbone.name names the architecture it was saved from${partial}.`;
  }
  return `Pass --allow-partial (backbone.allowPartial: true in a config) to fill the ${report.missing.length} missing parameter(s) with the seeded random init.`;
}

export class WeightMismatchError extends Error {
  constructor(
    readonly source: string,
    readonly report: WeightReport,
    options: { allowPartial?: boolean } = {},
  ) {
    super(`${source}: ${describeWeightReport(report)}. ${mismatchAdvice(report, options.allowPartial ?? false)}`);
    this.name = 'WeightMismatchError';
  }
}

export interface NonFiniteTensor {
  name: string;
  /** How many values are NaN or ±Infinity, and the first one's flat index and value. */
  count: number;
  firstIndex: number;
  firstValue: number;
}

/** The tensors among `names` holding NaN or ±Infinity (a damaged file, or a diverged training run). */
export function nonFiniteTensors(weights: StateDict, names: Iterable<string>): NonFiniteTensor[] {
  const out: NonFiniteTensor[] = [];
  for (const name of names) {
    const data = weights.get(name)?.data;
    if (!data) continue;
    let count = 0,
      firstIndex = -1;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        if (count++ === 0) firstIndex = i;
      }
    }
    if (count) out.push({ name, count, firstIndex, firstValue: data[firstIndex] });
  }
  return out;
}

export function describeNonFinite(found: NonFiniteTensor[]): string {
  const one = (t: NonFiniteTensor) =>
    `'${t.name}' holds ${t.count} non-finite value(s) (${t.firstValue} at flat index ${t.firstIndex})`;
  const shown = found.slice(0, 4).map(one).join('; ');
  return `${shown}${found.length > 4 ? ` … (${found.length} tensors in all)` : ''}: the file is damaged or was saved from a diverged training run`;
}

export function checkWeights(def: BackboneDefinition, weights: StateDict): WeightReport {
  const expected = summarizeDefinition(def, 64).params;
  const expectedNames = new Set(expected.map((p) => p.name));
  const report: WeightReport = { missing: [], unexpected: [], wrongShape: [], unused: [] };
  for (const p of expected) {
    const found = weights.get(p.name);
    if (!found) {
      if (!p.optional) report.missing.push(p.name);
      continue;
    }
    const same = found.shape.length === p.shape.length && found.shape.every((d, i) => d === p.shape[i]);
    // torch saves num_batches_tracked as a 0-d tensor; some writers give it shape [1]
    if (!same && !(p.optional && found.data.length === 1))
      report.wrongShape.push({ name: p.name, expected: p.shape, found: found.shape });
  }
  for (const name of weights.keys()) {
    if (expectedNames.has(name)) continue;
    if (def.unusedPrefixes.some((prefix) => name.startsWith(prefix))) report.unused.push(name);
    else report.unexpected.push(name);
  }
  return report;
}

export function isCompleteReport(report: WeightReport): boolean {
  return report.missing.length === 0 && report.unexpected.length === 0 && report.wrongShape.length === 0;
}

const list = (names: string[], limit = 8): string =>
  names.length > limit ? `${names.slice(0, limit).join(', ')} … (${names.length} in all)` : names.join(', ');

export function describeWeightReport(report: WeightReport): string {
  const parts: string[] = [];
  if (report.missing.length) parts.push(`missing keys: ${list(report.missing)}`);
  if (report.unexpected.length) parts.push(`unexpected keys: ${list(report.unexpected)}`);
  if (report.wrongShape.length) {
    parts.push(
      `wrong shapes: ${list(
        report.wrongShape.map((w) => `${w.name} expected ${formatShape(w.expected)} found ${formatShape(w.found)}`),
        4,
      )}`,
    );
  }
  return parts.length ? parts.join('; ') : 'all keys match';
}
