/**
 * A sweep file from disk to validated cells, or one error listing every problem with its path in
 * the file: YAML syntax, unknown keys, wrong types, empty axes, unknown backbones, categories and
 * config fields. Nothing runs and nothing is logged until this succeeds.
 */
import { basename } from 'node:path';
import { ALL_SYNTHETIC_CATEGORIES, listCategories, SYNTHETIC_SETS } from '@cfa/data';
import { readConfigFile } from '../run/config-file';
import { MethodConfigSchema } from '../methods/registry';
import {
  countCells,
  expandSweep,
  setPath,
  type SweepCell,
  SweepError,
  type SweepProblem,
  sweepFileProblems,
  zodProblems,
} from './expand-sweep';
import { type Sweep, SweepSchema } from './sweep-schema';

export interface SweepOverrides {
  dataRoot?: string;
  /** Category names, or 'all' (every category under the data root). */
  categories?: string[] | 'all';
  seeds?: number[];
  epochs?: number;
  weights?: string;
  backbone?: string;
  /** What every cell writes and logs of its trained model (the sweep file's `model`). */
  model?: { bundle: boolean; mlflow: boolean };
}

export interface LoadedSweep {
  file: string;
  text: string;
  sweep: Sweep;
  cells: SweepCell[];
}

/** Applies command-line overrides to the raw file content before validation. */
function applyOverrides(raw: Record<string, unknown>, o: SweepOverrides): Record<string, unknown> {
  const out = structuredClone(raw);
  const base = (out.base ?? {}) as Record<string, Record<string, unknown>>;
  if (o.dataRoot) out.dataRoot = o.dataRoot;
  if (o.categories) out.categories = o.categories;
  if (o.seeds) out.seeds = o.seeds;
  if (o.epochs !== undefined) base.training = { ...base.training, epochs: o.epochs };
  if (o.weights) base.backbone = { ...base.backbone, weights: o.weights };
  if (o.backbone) base.backbone = { ...base.backbone, name: o.backbone };
  if (o.model) out.model = o.model;
  out.base = base;
  return out;
}

const plural = (n: number, one: string, many: string) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** The most cells a sweep may expand to unless `--max-cells` says more: each cell is a training run. */
export const MAX_CELLS = 1000;

export async function loadSweep(
  file: string,
  overrides: SweepOverrides = {},
  options: { maxCells?: number } = {},
): Promise<LoadedSweep> {
  let raw: unknown;
  try {
    raw = await readConfigFile(file);
  } catch (error) {
    throw new SweepError(file, [{ path: '(file)', message: (error as Error).message.replace(`${file}: `, '') }]);
  }
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(file, 'utf8');
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new SweepError(file, [
      { path: '(file)', message: 'expected a mapping with name, reproduces, categories, base, axes' },
    ]);
  const input = applyOverrides(raw as Record<string, unknown>, overrides);
  const dataRoot = typeof input.dataRoot === 'string' ? input.dataRoot : undefined;
  const problems: SweepProblem[] = [];
  const available = dataRoot
    ? await listCategories(dataRoot).catch((e: Error) => {
        problems.push({ path: 'dataRoot', message: e.message });
        return [] as string[];
      })
    : ALL_SYNTHETIC_CATEGORIES.map((c) => c.name);
  // on the embedded dataset "all" is the default (standard) set; classic categories by name only
  if (!dataRoot && input.categories === 'all') input.categories = [...SYNTHETIC_SETS.standard];
  const parsed = SweepSchema.safeParse(input);
  if (!parsed.success) {
    // report the structural problems together with what the config itself would reject
    problems.push(...sweepFileProblems(parsed.error), ...configProblems(input, available));
    throw new SweepError(file, dedupe(problems));
  }
  const sweep = parsed.data;
  const expected = basename(file).replace(/\.(ya?ml|json)$/, '');
  if (sweep.name !== expected)
    problems.push({ path: 'name', message: `name '${sweep.name}' must match the file name '${expected}'` });
  // counted from the lists, before anything is expanded: a million cells are refused in a moment
  const count = countCells(sweep, available);
  const maxCells = options.maxCells ?? MAX_CELLS;
  if (count.total > maxCells)
    throw new SweepError(file, [
      ...problems,
      {
        path: '(cells)',
        message: `${count.total.toLocaleString('en-US')} cells = ${plural(count.categories, 'category', 'categories')} × ${plural(count.seeds, 'seed', 'seeds')} × ${plural(count.combinations, 'axis combination', 'axis combinations')}, more than the ${maxCells} allowed; each cell is a training run: shorten the lists, or raise --max-cells if you mean it`,
      },
    ]);
  try {
    const cells = expandSweep(sweep, file, { availableCategories: available });
    if (problems.length) throw new SweepError(file, problems);
    return { file, text, sweep, cells };
  } catch (error) {
    if (error instanceof SweepError) throw new SweepError(file, dedupe([...problems, ...error.problems]));
    throw error;
  }
}

function dedupe(problems: SweepProblem[]): SweepProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const id = `${p.path}|${p.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** What the method's config and the category list reject, checked on the raw (structurally invalid) file. */
function configProblems(input: Record<string, unknown>, available: string[]): SweepProblem[] {
  const out: SweepProblem[] = [];
  if (Array.isArray(input.categories)) {
    input.categories.forEach((c, i) => {
      if (typeof c === 'string' && available.length && !available.includes(c))
        out.push({
          path: `categories[${i}]`,
          message: `unknown category '${c}': expected one of ${available.join(', ')}`,
        });
    });
  }
  const base = input.base && typeof input.base === 'object' ? (input.base as Record<string, unknown>) : {};
  const baseCheck = MethodConfigSchema.safeParse(base);
  if (!baseCheck.success) out.push(...zodProblems(baseCheck.error, (p) => `base.${p}`));
  if (Array.isArray(input.axes)) {
    input.axes.forEach((axis, i) => {
      if (!axis || typeof axis !== 'object') return;
      for (const kind of ['grid', 'zip'] as const) {
        const fields = (axis as Record<string, unknown>)[kind];
        if (!fields || typeof fields !== 'object') continue;
        for (const [field, values] of Object.entries(fields as Record<string, unknown>)) {
          if (!Array.isArray(values)) continue;
          values.forEach((v, j) => {
            const cfg = structuredClone(baseCheck.success ? base : {}) as Record<string, unknown>;
            setPath(cfg, field, v);
            const check = MethodConfigSchema.safeParse(cfg);
            if (!check.success) out.push(...zodProblems(check.error, () => `axes[${i}].${kind}["${field}"][${j}]`));
          });
        }
      }
    });
  }
  return out;
}
