/**
 * Property-based tests of the sweep-file reader (run by sweep-file.fuzz.spec.ts in a worker under
 * a watchdog): random text, random YAML documents over the sweep vocabulary (with `__proto__`,
 * `constructor` and dotted paths through them), character edits of the shipped sweep files,
 * alias bombs, and random command-line overrides.
 *
 * The property: `loadSweep` gives validated cells or a `SweepError` naming the file — never another
 * error, a hang, or a change to `Object.prototype` (a field path through `__proto__` must not
 * reach it).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { checkProperties, type NoteInput, type PropertyOutcome } from '@cfa/io/testing';
import { SweepError } from './expand-sweep';
import { loadSweep, type SweepOverrides } from './load-sweep';

const dir = mkdtempSync(join(tmpdir(), 'sweep-fuzz-'));
const FILE = join(dir, 'fuzz.yaml');
const SHIPPED = ['ablation-loss', 'compression-sweep', 'backbone-sweep', 'rd-mvtec', 'main-table'].map((name) =>
  readFileSync(new URL(`../../../../experiments/${name}.yaml`, import.meta.url), 'utf8'),
);

/** Cells, or undefined for a SweepError naming the file; anything else (or a polluted prototype) throws. */
async function cellsOrNamedError(text: string, note: NoteInput, overrides: SweepOverrides = {}) {
  writeFileSync(FILE, text);
  note(`${JSON.stringify(overrides)} ${text.slice(0, 300)}`);
  try {
    const loaded = await loadSweep(FILE, overrides);
    if (loaded.cells.length === 0) throw new Error('a sweep without cells was accepted');
    return loaded;
  } catch (error) {
    if (error instanceof SweepError && error.source === FILE && error.message.startsWith(`${FILE}: `)) return undefined;
    throw error;
  } finally {
    const polluted = Object.keys(Object.prototype);
    if (polluted.length) {
      for (const k of polluted) delete (Object.prototype as Record<string, unknown>)[k];
      throw new Error(`Object.prototype was polluted with ${polluted.join(', ')}`);
    }
  }
}

const key = fc.constantFrom(
  'name',
  'reproduces',
  'categories',
  'seeds',
  'base',
  'axes',
  'grid',
  'zip',
  'dataRoot',
  'heatmaps',
  'report',
  'backbone',
  'training',
  'epochs',
  'memoryBank',
  'gammaC',
  'descriptor.gammaD',
  'memoryBank.gammaC',
  'loss.terms',
  'view.kind',
  '__proto__',
  'constructor',
  'prototype',
  '__proto__.polluted',
  'constructor.prototype.polluted',
);

const value = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('all', 'weave', 'disc', 'resnet18', 'att+rep', 'cfa++', 'center-crop', '', null, true),
    fc.integer({ min: -3, max: 10 }),
    fc.double(),
    fc.string({ maxLength: 12 }),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(key, tie('node'), { maxKeys: 4 }),
  ),
})).node;

/** A sweep document: mostly the right top-level keys, with random values under them. */
const sweepDocument = fc.record(
  {
    name: fc.constantFrom('fuzz', 'other', 'Fuzz!', 3),
    reproduces: fc.constantFrom('Table 6', '', 4),
    categories: fc.oneof(
      fc.constant('all'),
      fc.array(fc.constantFrom('weave', 'disc', 'carpet', ''), { maxLength: 3 }),
      value,
    ),
    seeds: value,
    base: value,
    axes: fc.oneof(
      fc.array(fc.record({ grid: fc.dictionary(key, fc.array(value, { maxLength: 3 }), { maxKeys: 3 }) }), {
        maxLength: 2,
      }),
      fc.array(fc.record({ zip: fc.dictionary(key, fc.array(value, { maxLength: 3 }), { maxKeys: 3 }) }), {
        maxLength: 2,
      }),
      value,
    ),
    heatmaps: value,
    report: value,
  },
  { requiredKeys: ['name', 'reproduces', 'categories'] },
);

export async function sweepFileProperties(note: NoteInput): Promise<PropertyOutcome> {
  return checkProperties(fc, [
    {
      name: 'random text',
      property: fc.asyncProperty(fc.string({ maxLength: 300, unit: 'binary' }), async (text) => {
        await cellsOrNamedError(text, note);
      }),
    },
    {
      name: 'random sweep documents (with __proto__ and constructor paths)',
      property: fc.asyncProperty(sweepDocument, async (doc) => {
        await cellsOrNamedError(stringify(doc), note);
      }),
    },
    {
      name: 'character edits of the shipped sweep files',
      property: fc.asyncProperty(
        fc.constantFrom(...SHIPPED).chain((text) =>
          fc.tuple(
            fc.constant(text),
            fc.array(fc.tuple(fc.nat({ max: text.length - 1 }), fc.nat({ max: 8 }), fc.string({ maxLength: 3 })), {
              minLength: 1,
              maxLength: 4,
            }),
          ),
        ),
        async ([text, edits]) => {
          let edited = text;
          for (const [at, cut, insert] of edits) edited = edited.slice(0, at) + insert + edited.slice(at + cut);
          // the file name must match `name:`, which the edits may have changed: both ways are checked
          await cellsOrNamedError(edited.replace(/^name: .*$/m, 'name: fuzz'), note);
          await cellsOrNamedError(edited, note);
        },
      ),
    },
    {
      name: 'alias bombs',
      property: fc.asyncProperty(
        fc.integer({ min: 2, max: 12 }),
        fc.integer({ min: 2, max: 9 }),
        async (depth, width) => {
          const lines = ['a0: &a0 [x]'];
          for (let i = 1; i <= depth; i++)
            lines.push(`a${i}: &a${i} [${Array.from({ length: width }, () => `*a${i - 1}`).join(', ')}]`);
          lines.push('name: fuzz', 'reproduces: bomb', `categories: *a${depth}`);
          await cellsOrNamedError(lines.join('\n'), note);
        },
      ),
    },
    {
      name: 'command-line overrides on a valid file',
      property: fc.asyncProperty(
        fc.record(
          {
            categories: fc.oneof(
              fc.constant('all' as const),
              fc.array(fc.constantFrom('weave', 'nut', 'x', ''), { maxLength: 3 }),
            ),
            seeds: fc.array(fc.oneof(fc.integer({ min: -2, max: 5 }), fc.double()), { maxLength: 3 }),
            epochs: fc.integer({ min: -2, max: 40 }),
            backbone: fc.constantFrom('resnet18', 'alexnet', ''),
            weights: fc.constantFrom('w.pth', ''),
          },
          { requiredKeys: [] },
        ),
        async (overrides) => {
          await cellsOrNamedError(SHIPPED[1].replace(/^name: .*$/m, 'name: fuzz'), note, overrides);
        },
      ),
    },
  ]);
}
