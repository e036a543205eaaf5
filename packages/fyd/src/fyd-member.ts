/**
 * What a bundle keeps of a fitted FYD member (`AnomalyMethod.member` of `fydMethod`). Tensors (the
 * bundle prefixes each with the member's role):
 *
 *   image_stn.{w1,b1,w2,b2}            the image-level transformer, when `stages.image`
 *   feature_stn.<l>.{w1,b1,w2,b2}      one transformer per backbone map, when `stages.feature`
 *   head.{adaptor,predictor}.*         the adaptor [Σ C, D] + [D] and the predictor (kept for completeness)
 *   gaussians.mean [P, D], gaussians.inverse [P, D, D]
 *
 * and the fields `featureLevels` (the backbone maps at the member's size), `stages`,
 * `transformer` (pool sizes and hidden width), `head` (D, D_h) and `gaussians` (images, ε). The
 * manifest's own `levels` are the extractor's: the viewed image [S, S, 3].
 */
import { z } from 'zod';
import {
  type AlignmentHeadParams,
  EmbeddingLevelSchema,
  type EmbeddingLevel,
  pyramidChannels,
  type SpatialTransformerParams,
} from '@cfa/descriptor';
import type { MemberLoadContext, MemberState } from '@cfa/method-kit';
import type { FydConfig } from './config';
import type { FittedFyd } from './fit';

const positiveInt = z.number().int().positive();

export const FYD_MEMBER_FIELDS = {
  featureLevels: z.array(EmbeddingLevelSchema).min(1),
  stages: z.strictObject({ image: z.boolean(), feature: z.boolean() }),
  transformer: z.strictObject({ imagePool: positiveInt, featurePool: positiveInt, hidden: positiveInt }),
  head: z.strictObject({ dim: positiveInt, predictorHidden: positiveInt }),
  gaussians: z.strictObject({ count: positiveInt, epsilon: z.number().positive() }),
};
const FydMemberSchema = z.strictObject(FYD_MEMBER_FIELDS);
type FydMemberFields = z.infer<typeof FydMemberSchema>;

const pick = (fields: Record<string, unknown>) =>
  FydMemberSchema.parse(Object.fromEntries(Object.keys(FYD_MEMBER_FIELDS).map((k) => [k, fields[k]])));

const STN_PARTS = ['w1', 'b1', 'w2', 'b2'] as const;
const HEAD_PARTS = [
  ['head.adaptor.weight', 'adaptorWeight'],
  ['head.adaptor.bias', 'adaptorBias'],
  ['head.predictor.weight1', 'predictorWeight1'],
  ['head.predictor.bias1', 'predictorBias1'],
  ['head.predictor.weight2', 'predictorWeight2'],
  ['head.predictor.bias2', 'predictorBias2'],
] as const;

function stnShapes(prefix: string, inChannels: number, pool: number, hidden: number): [string, number[]][] {
  const inputs = pool * pool * inChannels;
  const shapes = { w1: [inputs, hidden], b1: [hidden], w2: [hidden, 4], b2: [4] };
  return STN_PARTS.map((p) => [`${prefix}.${p}`, shapes[p]]);
}

export function fydMemberTensorShapes(fields: Record<string, unknown>): Map<string, number[]> {
  const f = pick(fields);
  const { imagePool, featurePool, hidden } = f.transformer;
  const c = pyramidChannels(f.featureLevels);
  const { dim: d, predictorHidden: h } = f.head;
  const p = f.featureLevels[0].height * f.featureLevels[0].width;
  return new Map([
    ...(f.stages.image ? stnShapes('image_stn', 3, imagePool, hidden) : []),
    ...(f.stages.feature
      ? f.featureLevels.flatMap((l, k) => stnShapes(`feature_stn.${k}`, l.channels, featurePool, hidden))
      : []),
    ['head.adaptor.weight', [c, d]],
    ['head.adaptor.bias', [d]],
    ['head.predictor.weight1', [d, h]],
    ['head.predictor.bias1', [h]],
    ['head.predictor.weight2', [h, d]],
    ['head.predictor.bias2', [d]],
    ['gaussians.mean', [p, d]],
    ['gaussians.inverse', [p, d, d]],
  ]);
}

export function checkFydMember(fields: Record<string, unknown>, levels: EmbeddingLevel[]): string | undefined {
  const f = pick(fields);
  if (levels.length !== 1 || levels[0].channels !== 3 || levels[0].height !== levels[0].width)
    return `FYD's members store the viewed image [S, S, 3] as their one level, got ${JSON.stringify(levels)}`;
  if (f.featureLevels.some((l) => l.height > levels[0].height))
    return `featureLevels ${JSON.stringify(f.featureLevels)} are larger than the ${levels[0].height}² image`;
  return undefined;
}

export function saveFydMember(model: FittedFyd): MemberState {
  const { config, levels, imageStn, featureStns, head, gaussians } = model;
  const fields: FydMemberFields = {
    featureLevels: levels,
    stages: { image: imageStn !== undefined, feature: featureStns !== undefined },
    transformer: {
      imagePool: config.transformer.imagePool,
      featurePool: config.transformer.featurePool,
      hidden: config.transformer.hidden,
    },
    head: { dim: head.dim, predictorHidden: head.predictorHidden },
    gaussians: { count: gaussians.count, epsilon: gaussians.epsilon },
  };
  const shapes = fydMemberTensorShapes(fields);
  const tensor = (name: string, data: Float32Array) => [name, { shape: shapes.get(name)!, data }] as const;
  const stnTensors = (prefix: string, p: SpatialTransformerParams) =>
    STN_PARTS.map((k) => tensor(`${prefix}.${k}`, p[k]));
  return {
    fields,
    tensors: new Map([
      ...(imageStn ? stnTensors('image_stn', imageStn) : []),
      ...(featureStns ?? []).flatMap((p, l) => stnTensors(`feature_stn.${l}`, p)),
      ...HEAD_PARTS.map(([name, key]) => tensor(name, head[key])),
      tensor('gaussians.mean', gaussians.mean),
      tensor('gaussians.inverse', gaussians.inverse),
    ]),
  };
}

export function loadFydMember({
  fields,
  tensors,
  config,
  engine,
  backbone,
  levels,
}: MemberLoadContext<FydConfig>): FittedFyd {
  const f = pick(fields);
  const data = (name: string) => tensors.get(name)!.data;
  const { imagePool, featurePool, hidden } = f.transformer;
  const stn = (prefix: string, inChannels: number, pool: number): SpatialTransformerParams => ({
    inChannels,
    pool,
    hidden,
    w1: data(`${prefix}.w1`),
    b1: data(`${prefix}.b1`),
    w2: data(`${prefix}.w2`),
    b2: data(`${prefix}.b2`),
  });
  const head = {
    inChannels: pyramidChannels(f.featureLevels),
    dim: f.head.dim,
    predictorHidden: f.head.predictorHidden,
    ...Object.fromEntries(HEAD_PARTS.map(([name, key]) => [key, data(name)])),
  } as AlignmentHeadParams;
  const positions = f.featureLevels[0].height * f.featureLevels[0].width;
  return {
    config,
    engine,
    backbone,
    inputSize: levels[0].height,
    levels: f.featureLevels,
    ...(f.stages.image ? { imageStn: stn('image_stn', 3, imagePool) } : {}),
    ...(f.stages.feature
      ? { featureStns: f.featureLevels.map((l, k) => stn(`feature_stn.${k}`, l.channels, featurePool)) }
      : {}),
    head,
    gaussians: {
      positions,
      dim: f.head.dim,
      count: f.gaussians.count,
      epsilon: f.gaussians.epsilon,
      mean: data('gaussians.mean'),
      inverse: data('gaussians.inverse'),
    },
    history: [],
    imageHistory: [],
    timings: { bankSeconds: 0, trainSeconds: 0 },
  };
}
