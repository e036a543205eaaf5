/**
 * A validated sweep → its cells. Axes multiply (grid) or pair (zip); every cell's method config is
 * the base with the cell's assignments applied, validated in full — so a wrong value anywhere is
 * reported with its path in the sweep file before anything runs. Each cell has a deterministic
 * key (a hash of what determines its numbers), which names its MLflow run and its queue job.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '@cfa/method-kit';
import { METHOD_NAMES, MethodConfigSchema, methodOf } from '../methods/registry';
import type { z } from 'zod';
import { methodConfigOf, type RunConfig, RunConfigSchema } from '../run/run-config';
import type { Axis, Sweep } from './sweep-schema';

type Scalar = string | number | boolean;

export interface SweepCell {
  key: string;
  /** e.g. `weave loss.terms=att seed=0`. */
  name: string;
  category: string;
  seed: number;
  assignments: Record<string, Scalar>;
  config: RunConfig;
}

export interface SweepProblem {
  /** Where in the sweep file, e.g. `axes[0].grid.backbone.name[1]`. */
  path: string;
  message: string;
}

export class SweepError extends Error {
  constructor(
    readonly source: string,
    readonly problems: SweepProblem[],
  ) {
    super(
      `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `✖ ${p.message}\n  → at ${p.path}`).join('\n')}`,
    );
    this.name = 'SweepError';
  }
}

/**
 * Sets `a.b.c` in a plain object, creating objects on the way. Every step is an own property, so a
 * path through `__proto__` or `constructor` (a hostile or misspelt axis field) creates a key that
 * validation then rejects, instead of reaching `Object.prototype`.
 */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const own = (node: Record<string, unknown>, key: string, v: unknown) =>
    Object.defineProperty(node, key, { value: v, enumerable: true, writable: true, configurable: true });
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = Object.hasOwn(node, part) ? node[part] : undefined;
    if (typeof next !== 'object' || next === null) own(node, part, {});
    node = Object.getOwnPropertyDescriptor(node, part)!.value as Record<string, unknown>;
  }
  own(node, parts.at(-1)!, value);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `over` on top of `base`, objects merged field by field (a copy; neither is changed). */
export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(base);
  for (const [key, value] of Object.entries(over)) {
    const current = Object.hasOwn(out, key) ? out[key] : undefined;
    const merged =
      isPlainObject(current) && isPlainObject(value) ? mergeConfig(current, value) : structuredClone(value);
    Object.defineProperty(out, key, { value: merged, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Whether `path` (or a field under it, or above it) is set in `fields`. */
function setsPath(fields: Record<string, unknown>, path: string): boolean {
  let node: unknown = fields;
  for (const part of path.split('.')) {
    if (!isPlainObject(node) || !Object.hasOwn(node, part)) return false;
    node = node[part];
    if (!isPlainObject(node)) return true;
  }
  return true;
}

/** The method of a cell: its `method` assignment, else the base's, else the first registered. */
function cellMethod(sweep: Sweep, assignments: Record<string, Scalar>): string {
  return String(assignments.method ?? sweep.base.method ?? METHOD_NAMES[0]);
}

/** The combinations one axis contributes: a grid multiplies its fields, a zip pairs them. */
function axisCombinations(axis: Axis, index: number, problems: SweepProblem[]): Record<string, Scalar>[] {
  if ('cases' in axis) return axis.cases.map((c) => ({ ...c }));
  if ('zip' in axis) {
    const entries = Object.entries(axis.zip);
    const length = entries[0][1].length;
    for (const [k, v] of entries) {
      if (v.length !== length)
        problems.push({
          path: `axes[${index}].zip.${k}`,
          message: `zip fields must have the same length: ${entries[0][0]} has ${length}, ${k} has ${v.length}`,
        });
    }
    return Array.from({ length }, (_, i) => Object.fromEntries(entries.map(([k, v]) => [k, v[i]])));
  }
  let combos: Record<string, Scalar>[] = [{}];
  for (const [k, values] of Object.entries(axis.grid))
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [k]: v })));
  return combos;
}

/** Where an assignment came from, to point config errors at the sweep file. */
function axisSource(sweep: Sweep, path: string, value: Scalar): string {
  for (const [i, axis] of sweep.axes.entries()) {
    if ('cases' in axis) {
      const at = axis.cases.findIndex((c) => c[path] === value);
      if (at >= 0) return `axes[${i}].cases[${at}]["${path}"]`;
      continue;
    }
    const kind = 'zip' in axis ? 'zip' : 'grid';
    const fields = 'zip' in axis ? axis.zip : axis.grid;
    if (path in fields) {
      const at = fields[path].indexOf(value);
      return `axes[${i}].${kind}["${path}"]${at >= 0 ? `[${at}]` : ''}`;
    }
  }
  return `base.${path}`;
}

/**
 * The cell key: what the numbers depend on (dataset, resolved config), not the sweep's name. A
 * config field added later is left out while it has the value that reproduces the earlier
 * behaviour (`method: 'cfa'`; `ensemble: 'none'`; `calibration` with `holdout: 0`, which fits on
 * every train image and sets no threshold), so cells logged before it existed keep their keys and
 * resume. (The method's config is hashed under the name `cfa`, as before methods.)
 */
export function cellKey(config: RunConfig): string {
  const { method, ensemble, calibration, ...rest } = methodConfigOf(config);
  const cfa = {
    ...(method === 'cfa' ? {} : { method }),
    ...rest,
    ...(ensemble === 'none' ? {} : { ensemble }),
    ...(calibration.holdout === 0 ? {} : { calibration }),
  };
  return createHash('sha256')
    .update(canonicalJson({ dataset: config.dataset, cfa }))
    .digest('hex')
    .slice(0, 16);
}

export interface ExpandOptions {
  /** Every category under the data root, for "all" and for checking names. */
  availableCategories: string[];
}

/** How many cells a sweep expands to, counted from its lists without expanding them. */
export interface CellCount {
  total: number;
  categories: number;
  seeds: number;
  /** Axis combinations: the product of the grids' value counts, the zips' lengths and the case counts. */
  combinations: number;
}

export function countCells(sweep: Sweep, availableCategories: readonly string[]): CellCount {
  const categories = sweep.categories === 'all' ? availableCategories.length : sweep.categories.length;
  const combinations = sweep.axes.reduce((n, axis) => {
    if ('cases' in axis) return n * axis.cases.length;
    const lists = Object.values('zip' in axis ? axis.zip : axis.grid);
    return n * ('zip' in axis ? lists[0].length : lists.reduce((m, l) => m * l.length, 1));
  }, 1);
  return { total: categories * sweep.seeds.length * combinations, categories, seeds: sweep.seeds.length, combinations };
}

/** `seeds[3]: 1 is listed twice (also at seeds[1])`: a value twice would run the same cells twice. */
export function repeatedValues(values: readonly unknown[], path: string, what: string): SweepProblem[] {
  const first = new Map<string, number>();
  const out: SweepProblem[] = [];
  values.forEach((v, i) => {
    const id = JSON.stringify(v);
    const at = first.get(id);
    if (at === undefined) first.set(id, i);
    else
      out.push({
        path: `${path}[${i}]`,
        message: `${what} ${String(v)} is listed twice (also at ${path}[${at}]): its cells would run twice`,
      });
  });
  return out;
}

/** Repeated categories, seeds and axis values (a zip repeats when a whole tuple does). */
function repeatedEntries(sweep: Sweep): SweepProblem[] {
  const out: SweepProblem[] = [];
  if (sweep.categories !== 'all') out.push(...repeatedValues(sweep.categories, 'categories', 'category'));
  out.push(...repeatedValues(sweep.seeds, 'seeds', 'seed'));
  sweep.axes.forEach((axis, i) => {
    if ('grid' in axis)
      for (const [field, values] of Object.entries(axis.grid))
        out.push(...repeatedValues(values, `axes[${i}].grid["${field}"]`, 'value'));
    else if ('cases' in axis)
      out.push(...repeatedValues(axis.cases.map(canonicalJson), `axes[${i}].cases`, 'the case'));
    else {
      const entries = Object.entries(axis.zip);
      const tuples = entries[0][1].map((_, j) => entries.map(([, v]) => v[j]).join(', '));
      out.push(...repeatedValues(tuples, `axes[${i}].zip`, 'the zip entry'));
    }
  });
  return out;
}

export function expandSweep(sweep: Sweep, source: string, options: ExpandOptions): SweepCell[] {
  const problems: SweepProblem[] = repeatedEntries(sweep);
  const categories = sweep.categories === 'all' ? options.availableCategories : sweep.categories;
  categories.forEach((c, i) => {
    if (!options.availableCategories.includes(c)) {
      problems.push({
        path: `categories[${i}]`,
        message: `unknown category '${c}': expected one of ${options.availableCategories.join(', ')}`,
      });
    }
  });
  let combos: Record<string, Scalar>[] = [{}];
  sweep.axes.forEach((axis, i) => {
    const add = axisCombinations(axis, i, problems);
    combos = combos.flatMap((c) => add.map((a) => ({ ...c, ...a })));
  });
  const baseCheck = MethodConfigSchema.safeParse(sweep.base);
  if (!baseCheck.success) problems.push(...zodProblems(baseCheck.error, (path) => `base.${path}`));
  const methods = new Set(combos.map((a) => cellMethod(sweep, a)));
  for (const name of Object.keys(sweep.perMethod)) {
    if (!(METHOD_NAMES as string[]).includes(name))
      problems.push({
        path: `perMethod.${name}`,
        message: `unknown method '${name}': expected one of ${METHOD_NAMES.join(', ')}`,
      });
    else if (!methods.has(name))
      problems.push({
        path: `perMethod.${name}`,
        message: `no cell runs method ${name} (cells run ${[...methods].join(', ')})`,
      });
  }
  const cells: SweepCell[] = [];
  const reported = new Set<string>();
  for (const assignments of combos) {
    const method = cellMethod(sweep, assignments);
    const own = sweep.perMethod[method] ?? {};
    const input = mergeConfig(sweep.base, own);
    for (const [path, value] of Object.entries(assignments)) setPath(input, path, value);
    const parsed = MethodConfigSchema.safeParse(input);
    if (!parsed.success) {
      if (baseCheck.success) {
        for (const p of zodProblems(parsed.error, (path) => {
          const field = Object.keys(assignments).find((a) => path === a || path.startsWith(`${a}.`));
          if (field) return axisSource(sweep, field, assignments[field]);
          return setsPath(own, path) ? `perMethod.${method}.${path}` : `base.${path}`;
        })) {
          const id = `${p.path}|${p.message}`;
          if (!reported.has(id)) problems.push(p);
          reported.add(id);
        }
      }
      continue;
    }
    for (const category of categories) {
      for (const seed of sweep.seeds) {
        const config = RunConfigSchema.parse({
          ...parsed.data,
          seed,
          dataset: {
            category,
            ...(sweep.dataRoot ? { root: sweep.dataRoot } : {}),
            // the unified setting: one model on every category of the sweep, evaluated per category
            ...(methodOf(parsed.data).unified?.(parsed.data as never) ? { trainCategories: categories } : {}),
          },
          heatmaps: sweep.heatmaps,
          model: sweep.model,
        });
        const label = Object.entries(assignments)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ');
        cells.push({
          key: cellKey(config),
          name: `${category}${label ? ` ${label}` : ''} seed=${seed}`,
          category,
          seed,
          assignments,
          config,
        });
      }
    }
  }
  // the last guard of "each cell once": two assignments that resolve to one config
  const byKey = new Map<string, SweepCell>();
  for (const cell of problems.length ? [] : cells) {
    const twin = byKey.get(cell.key);
    if (twin)
      problems.push({
        path: 'axes',
        message: `cells '${twin.name}' and '${cell.name}' resolve to the same config (key ${cell.key}): it would run twice`,
      });
    byKey.set(cell.key, cell);
  }
  if (problems.length) throw new SweepError(source, problems);
  return cells;
}

/** `['axes', 0, 'grid', 'loss.terms', 1]` → `axes[0].grid["loss.terms"][1]`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  return segments
    .map((s, i) =>
      typeof s === 'number' ? `[${s}]` : String(s).includes('.') ? `["${String(s)}"]` : `${i ? '.' : ''}${String(s)}`,
    )
    .join('');
}

/** Config-relative issue paths (dotted), for mapping into the sweep file. */
export function zodProblems(error: z.ZodError, locate: (path: string) => string): SweepProblem[] {
  return error.issues.flatMap((issue) => {
    const keys = 'keys' in issue && Array.isArray(issue.keys) ? (issue.keys as string[]) : [];
    const base = issue.path.map(String);
    const paths = keys.length ? keys.map((k) => [...base, k].join('.')) : [base.join('.')];
    return paths.map((path) => ({
      path: locate(path),
      message: keys.length ? `unknown key '${path.split('.').at(-1)}'` : issue.message,
    }));
  });
}

/** Sweep-file issue paths, formatted. */
export function sweepFileProblems(error: z.ZodError): SweepProblem[] {
  return error.issues.flatMap((issue) => {
    const keys = 'keys' in issue && Array.isArray(issue.keys) ? (issue.keys as string[]) : [];
    if (keys.length) return keys.map((k) => ({ path: formatPath([...issue.path, k]), message: `unknown key '${k}'` }));
    return [{ path: formatPath(issue.path) || '(top level)', message: issue.message }];
  });
}
