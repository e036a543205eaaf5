/**
 * What a bundle keeps of a fitted CFA member (`AnomalyMethod.member` of `cfaMethod`): φ's 1×1
 * CoordConv as a matrix and its bias, the memory bank's centres, and the radius r. Tensors (the
 * bundle prefixes each with the member's role):
 *
 *   descriptor.weight  [D + c, D′]  rows = embedding channels then coordinate channels (c = 2, or 3 with the radius channel)
 *   descriptor.bias    [D′]
 *   bank.centres       [M, D′]
 *
 * and the manifest fields `descriptor: { inChannels, coordChannels, outChannels }`,
 * `bank: { size, dim }`, `radius` — the layout of bundle format version 1, which only CFA wrote.
 */
import { z } from 'zod';
import type { EmbeddingLevel } from '@cfa/descriptor';
import { createMemoryBank } from '@cfa/memory-bank';
import type { MemberLoadContext, MemberState } from '@cfa/method-kit';
import type { CfaConfig } from './config';
import type { FittedCfa } from './fit';

const positiveInt = z.number().int().positive();

/** The member's own manifest fields. */
export const CFA_MEMBER_FIELDS = {
  descriptor: z.strictObject({
    inChannels: positiveInt,
    coordChannels: z.union([z.literal(2), z.literal(3)]),
    outChannels: positiveInt,
  }),
  bank: z.strictObject({ size: positiveInt, dim: positiveInt }),
  /** The learned (or fixed) radius r. */
  radius: z.number(),
};
const CfaMemberSchema = z.strictObject(CFA_MEMBER_FIELDS);
type CfaMemberFields = z.infer<typeof CfaMemberSchema>;

export function saveCfaMember(model: FittedCfa): MemberState {
  const { params, bank, radius } = model;
  const fields: CfaMemberFields = {
    descriptor: {
      inChannels: params.inChannels,
      coordChannels: params.coordChannels as 2 | 3,
      outChannels: params.outChannels,
    },
    bank: { size: bank.size, dim: bank.dim },
    radius,
  };
  return {
    fields,
    tensors: new Map([
      [
        'descriptor.weight',
        { shape: [params.inChannels + params.coordChannels, params.outChannels], data: params.weight },
      ],
      ['descriptor.bias', { shape: [params.outChannels], data: params.bias }],
      ['bank.centres', { shape: [bank.size, bank.dim], data: bank.centres }],
    ]),
  };
}

/** Tensor name → shape, from the member's fields. */
export function cfaMemberTensorShapes(fields: Record<string, unknown>): Map<string, number[]> {
  const { descriptor, bank } = CfaMemberSchema.parse(pick(fields));
  return new Map([
    ['descriptor.weight', [descriptor.inChannels + descriptor.coordChannels, descriptor.outChannels]],
    ['descriptor.bias', [descriptor.outChannels]],
    ['bank.centres', [bank.size, bank.dim]],
  ]);
}

/** The fields' agreement with each other and with the stored levels. */
export function checkCfaMember(fields: Record<string, unknown>, levels: EmbeddingLevel[]): string | undefined {
  const { descriptor, bank } = CfaMemberSchema.parse(pick(fields));
  const channels = levels.reduce((n, l) => n + l.channels, 0);
  if (channels !== descriptor.inChannels)
    return `levels hold ${channels} channels, descriptor.inChannels is ${descriptor.inChannels}`;
  if (bank.dim !== descriptor.outChannels)
    return `bank.dim ${bank.dim} differs from descriptor.outChannels ${descriptor.outChannels}`;
  return undefined;
}

export function loadCfaMember({ fields, tensors, config, engine, levels }: MemberLoadContext<CfaConfig>): FittedCfa {
  const { descriptor, bank, radius } = CfaMemberSchema.parse(pick(fields));
  const data = (name: string) => tensors.get(name)!.data;
  return {
    config,
    engine,
    params: { ...descriptor, weight: data('descriptor.weight'), bias: data('descriptor.bias') },
    bank: createMemoryBank(data('bank.centres'), bank.size, bank.dim),
    radius,
    height: levels[0].height,
    width: levels[0].width,
    history: [],
    timings: { bankSeconds: 0, trainSeconds: 0 },
  };
}

/** The member's own fields out of a whole manifest entry (which also holds the shared ones). */
function pick(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(CFA_MEMBER_FIELDS).map((k) => [k, fields[k]]));
}
