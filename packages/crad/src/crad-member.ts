/**
 * What a bundle keeps of a fitted CRAD member (`AnomalyMethod.member` of `cradMethod`): the whole
 * state dict in the reference module's names (`query.0`, `query.1`, `coord_.*`, `coord.*`,
 * `layer.*`, `recover.weight`, the BatchNorm running statistics; the bundle prefixes each with the
 * member's role), and the manifest fields that fix every shape: the feature grid, the grids'
 * resolutions and the decoder's depth and width.
 */
import { z } from 'zod';
import type { EmbeddingLevel } from '@cfa/descriptor';
import type { MemberLoadContext, MemberState } from '@cfa/method-kit';
import type { CradConfig } from './config';
import { initCradState } from './crad-state';
import type { FittedCrad } from './fit';

const positiveInt = z.number().int().positive();

/** The member's own manifest fields. */
export const CRAD_MEMBER_FIELDS = {
  grid: z.strictObject({ channels: positiveInt, height: positiveInt, width: positiveInt }),
  memory: z.strictObject({ localResolution: positiveInt, globalResolution: positiveInt }),
  decoder: z.strictObject({ layers: z.number().int().nonnegative(), expansion: positiveInt }),
};
const CradMemberSchema = z.strictObject(CRAD_MEMBER_FIELDS);
type CradMemberFields = z.infer<typeof CradMemberSchema>;

const pick = (fields: Record<string, unknown>) =>
  Object.fromEntries(Object.keys(CRAD_MEMBER_FIELDS).map((k) => [k, fields[k]]));

export function saveCradMember(model: FittedCrad): MemberState {
  const fields: CradMemberFields = {
    grid: model.grid,
    memory: { ...model.config.memory },
    decoder: { ...model.config.decoder },
  };
  return { fields, tensors: new Map(model.state) };
}

/** Tensor name → shape, from the member's fields (a fresh state's, which has the same shapes). */
export function cradMemberTensorShapes(fields: Record<string, unknown>): Map<string, number[]> {
  const { grid, memory, decoder } = CradMemberSchema.parse(pick(fields));
  return new Map([...initCradState({ memory, decoder, seed: 0 }, grid)].map(([k, v]) => [k, v.shape]));
}

/** The stored features must be the grid the model reconstructs: one level of the same size. */
export function checkCradMember(fields: Record<string, unknown>, levels: EmbeddingLevel[]): string | undefined {
  const { grid } = CradMemberSchema.parse(pick(fields));
  if (levels.length !== 1) return `CRAD reads one feature level (the MFCN neck's), the bundle lists ${levels.length}`;
  const [l] = levels;
  if (l.height !== grid.height || l.width !== grid.width || l.channels !== grid.channels)
    return `the stored level is ${l.height}×${l.width}×${l.channels}, the model's grid ${grid.height}×${grid.width}×${grid.channels}`;
  return undefined;
}

export function loadCradMember({ fields, tensors, config, engine }: MemberLoadContext<CradConfig>): FittedCrad {
  const { grid, memory, decoder } = CradMemberSchema.parse(pick(fields));
  return {
    config: { ...config, memory, decoder },
    engine,
    state: new Map(tensors),
    grid,
    history: [],
    timings: { bankSeconds: 0, trainSeconds: 0 },
  };
}
