/**
 * What a bundle keeps of a fitted PatchCore member (`AnomalyMethod.member` of `patchcoreMethod`):
 * the memory bank, and the numbers scoring needs beside the config. Tensor (the bundle prefixes it
 * with the member's role):
 *
 *   bank.features  [M, D]  the coreset's patch features, in selection order
 *
 * and the manifest fields `bank: { size, dim }` and `trainPatches` (how many patches the coreset
 * chose from).
 */
import { z } from 'zod';
import type { EmbeddingLevel } from '@cfa/descriptor';
import { createMemoryBank } from '@cfa/memory-bank';
import type { MemberLoadContext, MemberState } from '@cfa/method-kit';
import type { PatchCoreConfig } from './config';
import type { FittedPatchCore } from './fit';

const positiveInt = z.number().int().positive();

export const PATCHCORE_MEMBER_FIELDS = {
  bank: z.strictObject({ size: positiveInt, dim: positiveInt }),
  trainPatches: positiveInt,
};
const MemberSchema = z.strictObject(PATCHCORE_MEMBER_FIELDS);

const pick = (fields: Record<string, unknown>) =>
  MemberSchema.parse(Object.fromEntries(Object.keys(PATCHCORE_MEMBER_FIELDS).map((k) => [k, fields[k]])));

export function savePatchCoreMember(model: FittedPatchCore): MemberState {
  const { bank } = model;
  return {
    fields: { bank: { size: bank.size, dim: bank.dim }, trainPatches: model.coreset.trainPatches },
    tensors: new Map([['bank.features', { shape: [bank.size, bank.dim], data: bank.centres }]]),
  };
}

export function patchCoreMemberTensorShapes(fields: Record<string, unknown>): Map<string, number[]> {
  const { bank } = pick(fields);
  return new Map([['bank.features', [bank.size, bank.dim]]]);
}

/** The bank's dimension against the stored level; the bank is a subset of the train patches. */
export function checkPatchCoreMember(fields: Record<string, unknown>, levels: EmbeddingLevel[]): string | undefined {
  const { bank, trainPatches } = pick(fields);
  if (levels.length !== 1) return `PatchCore stores one feature level, the manifest lists ${levels.length}`;
  if (bank.dim !== levels[0].channels)
    return `bank.dim ${bank.dim} differs from the level's ${levels[0].channels} channels`;
  if (bank.size > trainPatches) return `bank.size ${bank.size} exceeds trainPatches ${trainPatches}`;
  return undefined;
}

export function loadPatchCoreMember({
  fields,
  tensors,
  config,
  engine,
  levels,
}: MemberLoadContext<PatchCoreConfig>): FittedPatchCore {
  const { bank, trainPatches } = pick(fields);
  return {
    engine,
    bank: createMemoryBank(tensors.get('bank.features')!.data, bank.size, bank.dim),
    height: levels[0].height,
    width: levels[0].width,
    neighbours: config.scoring.neighbours,
    sigma: config.scoring.sigma,
    coreset: { trainPatches, projectSeconds: 0, selectSeconds: 0 },
    seconds: 0,
  };
}
