/**
 * What a bundle keeps of a fitted PaDiM member (`AnomalyMethod.member` of `padimMethod`): the
 * Gaussians and which embedding channels they are over. Tensors (the bundle prefixes each with the
 * member's role):
 *
 *   gaussians.mean     [H·W, d]
 *   gaussians.inverse  [H·W, d, d]   (Σ + εI)⁻¹, float32
 *
 * and the manifest fields `grid: { height, width }`, `channels` (the d kept channel indices, in
 * order) and `gaussians: { count, epsilon }` (train images, ε).
 */
import { z } from 'zod';
import { type EmbeddingLevel, pyramidChannels } from '@cfa/descriptor';
import type { MemberLoadContext, MemberState } from '@cfa/method-kit';
import type { PadimConfig } from './config';
import type { FittedPadim } from './fit';

const positiveInt = z.number().int().positive();

export const PADIM_MEMBER_FIELDS = {
  grid: z.strictObject({ height: positiveInt, width: positiveInt }),
  channels: z
    .array(z.number().int().nonnegative())
    .min(1)
    .refine((c) => new Set(c).size === c.length, 'channels must be distinct'),
  gaussians: z.strictObject({ count: z.number().int().min(2), epsilon: z.number().nonnegative() }),
};
const PadimMemberSchema = z.strictObject(PADIM_MEMBER_FIELDS);
type PadimMemberFields = z.infer<typeof PadimMemberSchema>;

export function savePadimMember(model: FittedPadim): MemberState {
  const { gaussians, channels, height, width } = model;
  const fields: PadimMemberFields = {
    grid: { height, width },
    channels,
    gaussians: { count: gaussians.count, epsilon: gaussians.epsilon },
  };
  const shapes = padimTensorShapes(fields);
  return {
    fields,
    tensors: new Map([
      ['gaussians.mean', { shape: shapes.get('gaussians.mean')!, data: gaussians.mean }],
      ['gaussians.inverse', { shape: shapes.get('gaussians.inverse')!, data: gaussians.inverse }],
    ]),
  };
}

function padimTensorShapes({ grid, channels }: Pick<PadimMemberFields, 'grid' | 'channels'>): Map<string, number[]> {
  const P = grid.height * grid.width,
    d = channels.length;
  return new Map([
    ['gaussians.mean', [P, d]],
    ['gaussians.inverse', [P, d, d]],
  ]);
}

/** Tensor name → shape, from the member's fields. */
export function padimMemberTensorShapes(fields: Record<string, unknown>): Map<string, number[]> {
  return padimTensorShapes(PadimMemberSchema.parse(pick(fields)));
}

/** The fields against the stored feature levels: the grid is layer1's, every channel exists. */
export function checkPadimMember(fields: Record<string, unknown>, levels: EmbeddingLevel[]): string | undefined {
  const { grid, channels } = PadimMemberSchema.parse(pick(fields));
  if (grid.height !== levels[0].height || grid.width !== levels[0].width)
    return `grid ${grid.height}×${grid.width} differs from the first feature level's ${levels[0].height}×${levels[0].width}`;
  const total = pyramidChannels(levels);
  const outside = channels.find((c) => c >= total);
  if (outside !== undefined) return `channel ${outside} is outside the embedding's ${total} channels`;
  return undefined;
}

export function loadPadimMember({ fields, tensors, config, engine }: MemberLoadContext<PadimConfig>): FittedPadim {
  const { grid, channels, gaussians } = PadimMemberSchema.parse(pick(fields));
  const data = (name: string) => tensors.get(name)!.data;
  return {
    gaussians: {
      positions: grid.height * grid.width,
      dim: channels.length,
      ...gaussians,
      mean: data('gaussians.mean'),
      inverse: data('gaussians.inverse'),
    },
    channels,
    height: grid.height,
    width: grid.width,
    sigma: config.sigma,
    engine,
    seconds: 0,
  };
}

/** The member's own fields out of a whole manifest entry (which also holds the shared ones). */
function pick(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(PADIM_MEMBER_FIELDS).map((k) => [k, fields[k]]));
}
