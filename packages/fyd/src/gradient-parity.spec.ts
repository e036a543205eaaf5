/**
 * FYD's training gradients against PyTorch's autograd of the same maths, stated independently in
 * tools/torch-reference/fyd_reference.py (our re-statement of the public description; the authors'
 * code is not public): one image-level step and one feature-level + fine step on seeded tiny
 * inputs, every parameter's gradient within 1e-4 of torch's (relative to its largest entry), the
 * alignment head on ONNX Runtime and on TensorFlow.js.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type EngineSelection, selectEngine } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { readSafetensors, type StateDict } from '@cfa/backbone';
import {
  type AlignmentHeadParams,
  type AlignmentHeadRunner,
  areaPool,
  createAlignmentHeadRunner,
  type EmbeddingLevel,
  type PoseBounds,
  type SpatialTransformerParams,
} from '@cfa/descriptor';
import { fineAlignmentStep, imageAlignmentStep } from './training-steps';

const FIXTURE = new URL('./__fixtures__/fyd-reference.torch.safetensors', import.meta.url).pathname;
const TOLERANCE = 1e-4;
const bounds: PoseBounds = { maxShift: 0.3, maxLogScale: 0.2, rotation: true };

let t: StateDict;
const get = (name: string) => {
  const x = t.get(name);
  if (!x) throw new Error(`fixture has no ${name}`);
  return x.data;
};
const stn = (prefix: string, inChannels: number, pool: number): SpatialTransformerParams => ({
  inChannels,
  pool,
  hidden: get(`${prefix}.b1`).length,
  w1: get(`${prefix}.w1`),
  b1: get(`${prefix}.b1`),
  w2: get(`${prefix}.w2`),
  b2: get(`${prefix}.b2`),
});

const LEVELS: EmbeddingLevel[] = [
  { height: 6, width: 6, channels: 4 },
  { height: 3, width: 3, channels: 5 },
];
/** The fixture's head, transformers and maps of the feature-level + fine step. */
const fineInputs = () => {
  const params: AlignmentHeadParams = {
    inChannels: 9,
    dim: 4,
    predictorHidden: 3,
    adaptorWeight: get('fine.head.A'),
    adaptorBias: get('fine.head.a'),
    predictorWeight1: get('fine.head.P1'),
    predictorBias1: get('fine.head.p1'),
    predictorWeight2: get('fine.head.P2'),
    predictorBias2: get('fine.head.p2'),
  };
  const stns = [stn('fine.stn.0', 4, 2), stn('fine.stn.1', 5, 2)];
  return { params, stns };
};
/** One feature-level + fine step on the fixture's maps; the feature transformers train when given. */
const fineStep = (
  head: AlignmentHeadRunner,
  { stns, trainAdaptor }: { stns?: SpatialTransformerParams[]; trainAdaptor: boolean },
) =>
  fineAlignmentStep({
    maps: [get('fine.maps.0'), get('fine.maps.1')],
    count: 3,
    levels: LEVELS,
    ...(stns ? { stns } : {}),
    bounds,
    head,
    trainFeature: stns !== undefined,
    trainAdaptor,
  });

beforeAll(async () => {
  ({ tensors: t } = await readSafetensors(FIXTURE));
});

describe('image-level coarse alignment step against PyTorch autograd', () => {
  it('loss, θ, aligned images and the transformer gradients within 1e-4', () => {
    const images = get('image.images');
    const shape = [3, 12, 12, 3] as const;
    const params = stn('image.stn', 3, 4);
    const batch = {
      count: 3,
      pooled: areaPool({ x: images, shape, size: 4 }),
      small: areaPool({ x: images, shape, size: 8 }),
      size: 8,
    };
    const step = imageAlignmentStep({ batch, params, bounds });
    expect(Math.abs(step.loss - get('image.loss')[0])).toBeLessThan(1e-5);
    expect(maxRelativeError(step.theta, get('image.theta'))).toBeLessThan(1e-5);
    expect(maxRelativeError(step.aligned, get('image.aligned'))).toBeLessThan(1e-5);
    ['w1', 'b1', 'w2', 'b2'].forEach((name, i) =>
      expect(maxRelativeError(step.grads[i], get(`image.grad.${name}`)), name).toBeLessThan(TOLERANCE),
    );
  });
});

describe.each(['ort', 'tfjs'] as const)('feature-level + fine alignment step against PyTorch autograd (%s)', (name) => {
  let engine: EngineSelection;
  beforeAll(async () => {
    engine = await selectEngine({ requested: name, threads: 1 });
  });

  it('loss, z, p and every gradient (two transformers, adaptor, predictor) within 1e-4', async () => {
    const { params, stns } = fineInputs();
    const head = await createAlignmentHeadRunner({ engine, params });
    const step = await fineStep(head, { stns, trainAdaptor: true });
    await head.release();
    expect(Math.abs(step.loss - get('fine.loss')[0])).toBeLessThan(1e-5);
    expect(maxRelativeError(step.z, get('fine.z'))).toBeLessThan(1e-5);
    expect(maxRelativeError(step.p, get('fine.p'))).toBeLessThan(1e-5);
    ['A', 'a', 'P1', 'p1', 'P2', 'p2'].forEach((n, i) =>
      expect(maxRelativeError(step.headGrads[i], get(`fine.grad.head.${n}`)), n).toBeLessThan(TOLERANCE),
    );
    for (const l of [0, 1])
      ['w1', 'b1', 'w2', 'b2'].forEach((n, i) =>
        expect(maxRelativeError(step.stnGrads[l]![i], get(`fine.grad.stn.${l}.${n}`)), `level ${l} ${n}`).toBeLessThan(
          TOLERANCE,
        ),
      );
  });

  it('a frozen adaptor gets zero gradients and leaves the others unchanged; no transformers, no ∂E', async () => {
    const { params, stns } = fineInputs();
    const head = await createAlignmentHeadRunner({ engine, params });
    const frozen = await fineStep(head, { stns, trainAdaptor: false });
    const plain = await fineStep(head, { trainAdaptor: true });
    await head.release();
    expect(frozen.headGrads[0].every((v) => v === 0) && frozen.headGrads[1].every((v) => v === 0)).toBe(true);
    expect(maxRelativeError(frozen.headGrads[2], get('fine.grad.head.P1'))).toBeLessThan(TOLERANCE);
    expect(maxRelativeError(frozen.stnGrads[1]![0], get('fine.grad.stn.1.w1'))).toBeLessThan(TOLERANCE);
    expect(plain.stnGrads).toEqual([undefined, undefined]);
    expect(plain.headGrads[0].some((v) => v !== 0)).toBe(true);
  });
});
