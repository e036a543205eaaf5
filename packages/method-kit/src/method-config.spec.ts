/**
 * One config over several methods: `method` picks the schema (the first method's when absent),
 * a field of another method is named as that method's, unknown fields and methods are refused.
 */
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { backboneConfigSchema, commonConfigFields, methodLiteral } from './common-config';
import type { AnyMethod } from './method';
import { methodConfigSchema } from './method-config';
import { positionMeanMethod } from './testing';

// a second method's config alone (nothing else of it is used here)
const other = {
  name: 'other',
  configSchema: z.strictObject({
    method: methodLiteral('other'),
    backbone: backboneConfigSchema(),
    coreset: z.strictObject({ ratio: z.number().gt(0).max(1).default(0.1) }).prefault({}),
    ...commonConfigFields(),
  }),
  configFields: ['method', 'backbone', 'coreset', 'view', 'calibration', 'ensemble', 'seed'],
} as unknown as AnyMethod;

const Schema = methodConfigSchema([positionMeanMethod, other]);
const issues = (input: unknown) => {
  const r = Schema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
};

describe('methodConfigSchema', () => {
  it("a config without `method` is the first method's, with its defaults; `method` picks another", () => {
    expect(Schema.parse({})).toMatchObject({ method: 'position-mean', sigma: 1, backbone: { taps: 'torchvision' } });
    expect(Schema.parse({ method: 'other', coreset: { ratio: 0.01 } })).toMatchObject({
      method: 'other',
      coreset: { ratio: 0.01 },
      backbone: { taps: 'reference' },
    });
  });

  it('a field of another method is named as that method’s, at its path', () => {
    expect(issues({ method: 'other', sigma: 2 })).toEqual([
      { path: 'sigma', message: "'sigma' belongs to method position-mean, not other" },
    ]);
    expect(issues({ coreset: { ratio: 0.5 } })).toEqual([
      { path: 'coreset', message: "'coreset' belongs to method other, not position-mean" },
    ]);
  });

  it('unknown fields, wrong values and unknown methods are refused with their paths', () => {
    expect(issues({ sigmaa: 2 })).toEqual([{ path: '', message: expect.stringMatching(/sigmaa/) }]);
    expect(issues({ method: 'other', coreset: { ratio: 2 } })).toEqual([
      { path: 'coreset.ratio', message: expect.stringMatching(/<=1|≤ ?1|too big/i) },
    ]);
    expect(issues({ method: 'padim' })).toEqual([
      { path: 'method', message: 'unknown method "padim": expected one of position-mean, other' },
    ]);
  });

  it('a partial view keeps the default kind (center-crop) and its other fields; another kind or a bad size is named', () => {
    const view = (input: unknown) => (Schema.parse({ method: 'other', view: input }) as { view: unknown }).view;
    expect(view({ resize: 128, crop: 112 })).toEqual({
      kind: 'center-crop',
      resize: 128,
      crop: 112,
      filter: 'lanczos',
    });
    expect(view({ filter: 'bilinear' })).toEqual({ kind: 'center-crop', resize: 256, crop: 224, filter: 'bilinear' });
    expect(view({ kind: 'resize', size: 64 })).toEqual({ kind: 'resize', size: 64, filter: 'lanczos' });
    expect(issues({ method: 'other', view: { resize: 'big' } })).toEqual([
      expect.objectContaining({ path: 'view.resize' }),
    ]);
  });

  it('the shared checks hold for every method: an ensemble needs a view with a companion', () => {
    expect(issues({ ensemble: 'cfa++', view: { kind: 'resize', size: 64 } })).toEqual([
      { path: 'ensemble', message: expect.stringMatching(/resize-only companion/) },
    ]);
  });
});
