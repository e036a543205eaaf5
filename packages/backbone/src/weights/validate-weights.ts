/**
 * Checks a loaded state dict against what a definition needs: missing, unexpected and
 * wrong-shaped keys are reported by name. A partial file is accepted only when asked
 * (`allowPartial`), and its missing parameters come from the seeded random init.
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

export class WeightMismatchError extends Error {
  constructor(
    readonly source: string,
    readonly report: WeightReport,
  ) {
    super(
      `${source}: ${describeWeightReport(report)}. Pass --allow-partial to fill missing parameters with the seeded random init.`,
    );
    this.name = 'WeightMismatchError';
  }
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
