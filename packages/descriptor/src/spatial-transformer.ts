/**
 * A spatial transformer (Jaderberg et al. 2015, §3) whose transformation is a pose — a rotation,
 * a bounded shift and a bounded scale — as FYD's coarse alignment uses it to bring every image
 * (and every feature map) to one pose (docs/methods/fyd.md, "Coarse alignment"; the pose
 * parameterisation and the bounds are our assumptions, named there).
 *
 * Localisation network: the map area-pooled to g×g (`areaPool`), flattened in NHWC order, then
 * FC → ReLU → FC to four raw numbers r = (a, u, v, s). Pose:
 *
 *   φ = a (radians; 0 when rotation is off)     t = maxShift · tanh(u, v)     k = exp(maxLogScale · tanh s)
 *   θ = [[k cos φ, −k sin φ, t_x], [k sin φ, k cos φ, t_y]]
 *
 * θ maps an output position to where it samples the input (`affineGrid`, then bilinear
 * `gridSample`, zeros outside, align_corners false: @cfa/tensor-runtime). The last layer starts
 * at zero, so every transformer starts as the identity (the STN paper's practice). The first layer
 * gets nn.Linear's default init (U(±1/√fan_in), weight and bias).
 *
 * Forward and gradient on typed arrays (the localisation network is a few thousand
 * multiply-adds; the gradient is written out, since TensorFlow.js's autograd is not registered
 * outside tests), and as an ONNX graph piece for inference.
 *
 * @example
 * ```ts
 * const params = createSpatialTransformerParams({ inChannels: 64, pool: 4, hidden: 32, seed: 0 });
 * const pooled = areaPool({ x, shape: [8, 56, 56, 64], size: 4 });
 * const pose = localise({ pooled, count: 8, params, bounds });      // θ [8, 2, 3] and what the gradient needs
 * const grads = localiseGradient({ pose, pooled, params, bounds, gradTheta });
 * ```
 */
import {
  affineGrid,
  assert,
  attr,
  createRng,
  gridSample,
  lowerAffineGrid,
  lowerGridSample,
  type OnnxGraphBuilder,
} from '@cfa/tensor-runtime';
import { areaPool, lowerAreaPool, lowerFlattenNhwc } from './area-pool';

export interface PoseBounds {
  /** Largest shift, in normalised coordinates (1 = half the side). */
  maxShift: number;
  /** Largest |log scale|. */
  maxLogScale: number;
  /** Whether the transformer may rotate. */
  rotation: boolean;
  /** What the warp reads outside the map: 'zeros' (default) or the clamped 'border'. */
  padding?: 'zeros' | 'border';
}

export interface SpatialTransformerParams {
  inChannels: number;
  /** g: the localisation network reads the map area-pooled to g×g. */
  pool: number;
  hidden: number;
  /** [g·g·C, hidden], [hidden], [hidden, 4], [4] (row-major: input × output). */
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

/** The parameters in a fixed order (the optimiser's and the bundle's). */
export const spatialTransformerTensors = (p: SpatialTransformerParams): Float32Array[] => [p.w1, p.b1, p.w2, p.b2];

export function spatialTransformerInputs(p: Pick<SpatialTransformerParams, 'inChannels' | 'pool'>): number {
  return p.pool * p.pool * p.inChannels;
}

export function createSpatialTransformerParams(options: {
  inChannels: number;
  pool: number;
  hidden: number;
  seed: number;
}): SpatialTransformerParams {
  const { inChannels, pool, hidden, seed } = options;
  assert(
    [inChannels, pool, hidden].every((d) => Number.isInteger(d) && d > 0),
    'createSpatialTransformerParams',
    () => `inChannels, pool and hidden must be positive integers, got ${inChannels}, ${pool}, ${hidden}`,
  );
  const fanIn = pool * pool * inChannels;
  const rng = createRng(seed).fork('spatial-transformer');
  const bound = 1 / Math.sqrt(fanIn); // nn.Linear: kaiming_uniform(a = √5) → U(±1/√fan_in), bias the same
  const w1 = Float32Array.from({ length: fanIn * hidden }, () => rng.uniform(-bound, bound));
  const b1 = Float32Array.from({ length: hidden }, () => rng.uniform(-bound, bound));
  return { inChannels, pool, hidden, w1, b1, w2: new Float32Array(hidden * 4), b2: new Float32Array(4) };
}

export function cloneSpatialTransformerParams(p: SpatialTransformerParams): SpatialTransformerParams {
  return { ...p, w1: p.w1.slice(), b1: p.b1.slice(), w2: p.w2.slice(), b2: p.b2.slice() };
}

/** One forward of the localisation network and the pose: what `localiseGradient` needs. */
export interface Pose {
  count: number;
  hiddenPre: Float32Array;
  /** r = (a, u, v, s) per image, [N, 4]. */
  raw: Float32Array;
  /** [N, 2, 3]. */
  theta: Float32Array;
}

/** θ from the raw outputs (see the file header). */
export function poseMatrix(raw: Float32Array, count: number, bounds: PoseBounds): Float32Array {
  const theta = new Float32Array(count * 6);
  for (let n = 0; n < count; n++) {
    const [a, u, v, s] = raw.subarray(n * 4, n * 4 + 4);
    const phi = bounds.rotation ? a : 0;
    const k = Math.exp(bounds.maxLogScale * Math.tanh(s));
    const c = k * Math.cos(phi),
      si = k * Math.sin(phi);
    theta.set([c, -si, bounds.maxShift * Math.tanh(u), si, c, bounds.maxShift * Math.tanh(v)], n * 6);
  }
  return theta;
}

/** ∂/∂r [N, 4] of Σ gradTheta · θ(r). */
export function poseMatrixGradient(
  raw: Float32Array,
  gradTheta: Float32Array,
  count: number,
  bounds: PoseBounds,
): Float32Array {
  const out = new Float32Array(count * 4);
  for (let n = 0; n < count; n++) {
    const [a, u, v, s] = raw.subarray(n * 4, n * 4 + 4);
    const [g00, g01, g02, g10, g11, g12] = gradTheta.subarray(n * 6, n * 6 + 6);
    const phi = bounds.rotation ? a : 0;
    const ts = Math.tanh(s);
    const k = Math.exp(bounds.maxLogScale * ts);
    const cos = Math.cos(phi),
      sin = Math.sin(phi);
    const dPhi = k * (-g00 * sin - g01 * cos + g10 * cos - g11 * sin);
    const dK = g00 * cos - g01 * sin + g10 * sin + g11 * cos;
    out[n * 4] = bounds.rotation ? dPhi : 0;
    out[n * 4 + 1] = g02 * bounds.maxShift * (1 - Math.tanh(u) ** 2);
    out[n * 4 + 2] = g12 * bounds.maxShift * (1 - Math.tanh(v) ** 2);
    out[n * 4 + 3] = dK * k * bounds.maxLogScale * (1 - ts ** 2);
  }
  return out;
}

/** The localisation network on pooled maps [N, g·g·C] and the pose it gives. */
export function localise(options: {
  pooled: Float32Array;
  count: number;
  params: SpatialTransformerParams;
  bounds: PoseBounds;
}): Pose {
  const { pooled, count, params, bounds } = options;
  const inputs = spatialTransformerInputs(params);
  const { hidden, w1, b1, w2, b2 } = params;
  assert(
    pooled.length === count * inputs,
    'localise',
    () =>
      `pooled holds ${pooled.length} values, ${count} maps of ${params.pool}×${params.pool}×${params.inChannels} need ${count * inputs}`,
  );
  const hiddenPre = new Float32Array(count * hidden);
  const raw = new Float32Array(count * 4);
  for (let n = 0; n < count; n++) {
    for (let j = 0; j < hidden; j++) {
      let sum = b1[j];
      for (let i = 0; i < inputs; i++) sum += pooled[n * inputs + i] * w1[i * hidden + j];
      hiddenPre[n * hidden + j] = sum;
    }
    for (let o = 0; o < 4; o++) {
      let sum = b2[o];
      for (let j = 0; j < hidden; j++) sum += Math.max(0, hiddenPre[n * hidden + j]) * w2[j * 4 + o];
      raw[n * 4 + o] = sum;
    }
  }
  return { count, hiddenPre, raw, theta: poseMatrix(raw, count, bounds) };
}

/** ∂/∂(w1, b1, w2, b2) of Σ gradTheta · θ, in `spatialTransformerTensors` order. */
export function localiseGradient(options: {
  pose: Pose;
  pooled: Float32Array;
  params: SpatialTransformerParams;
  bounds: PoseBounds;
  gradTheta: Float32Array;
}): Float32Array[] {
  const { pose, pooled, params, bounds, gradTheta } = options;
  const { count, hiddenPre, raw } = pose;
  const { hidden, w2 } = params;
  const inputs = spatialTransformerInputs(params);
  const dRaw = poseMatrixGradient(raw, gradTheta, count, bounds);
  const gw1 = new Float32Array(params.w1.length),
    gb1 = new Float32Array(hidden),
    gw2 = new Float32Array(hidden * 4),
    gb2 = new Float32Array(4);
  const dPre = new Float64Array(hidden);
  for (let n = 0; n < count; n++) {
    for (let o = 0; o < 4; o++) gb2[o] += dRaw[n * 4 + o];
    for (let j = 0; j < hidden; j++) {
      const pre = hiddenPre[n * hidden + j];
      let dh = 0;
      for (let o = 0; o < 4; o++) {
        gw2[j * 4 + o] += Math.max(0, pre) * dRaw[n * 4 + o];
        dh += w2[j * 4 + o] * dRaw[n * 4 + o];
      }
      dPre[j] = pre > 0 ? dh : 0;
      gb1[j] += dPre[j];
    }
    for (let i = 0; i < inputs; i++) {
      const x = pooled[n * inputs + i];
      if (x === 0) continue;
      for (let j = 0; j < hidden; j++) gw1[i * hidden + j] += x * dPre[j];
    }
  }
  return [gw1, gb1, gw2, gb2];
}

/** A map [N, H, W, C] brought to its transformer's pose: y = gridSample(x, affineGrid(θ(x))). */
export function spatialTransform(options: {
  x: Float32Array;
  shape: readonly [number, number, number, number];
  params: SpatialTransformerParams;
  bounds: PoseBounds;
}): { y: Float32Array; pose: Pose; grid: Float32Array } {
  const { x, shape, params, bounds } = options;
  const [n, h, w, c] = shape;
  assert(
    c === params.inChannels,
    'spatialTransform',
    () => `x has ${c} channels, the transformer reads ${params.inChannels}`,
  );
  const pooled = areaPool({ x, shape, size: params.pool });
  const pose = localise({ pooled, count: n, params, bounds });
  const grid = affineGrid({ theta: pose.theta, count: n, height: h, width: w });
  return {
    y: gridSample({ input: x, inputShape: shape, grid, gridShape: [n, h, w], padding: bounds.padding }),
    pose,
    grid,
  };
}

/** The graph value that holds the poses θ [n, 2, 3] of the transformer lowered under `name`. */
export function transformerTheta(name: string): string {
  return `${name}.theta`;
}

/**
 * ONNX: x [n, C, H, W] (NCHW) → the same map at its transformer's pose; weights as initializers
 * prefixed with `name`, the poses θ [n, 2, 3] as the value `transformerTheta(name)`.
 */
export function lowerSpatialTransformer(
  g: OnnxGraphBuilder,
  xNchw: string,
  options: { params: SpatialTransformerParams; bounds: PoseBounds; height: number; width: number; name: string },
): string {
  const { params, bounds, height, width, name } = options;
  const { pool, hidden } = params;
  const inputs = spatialTransformerInputs(params);
  const pooled = lowerFlattenNhwc(g, lowerAreaPool(g, xNchw, { height, width, size: pool, name }), inputs);
  const w1 = g.initializer(`${name}.w1`, params.w1, [inputs, hidden]);
  const b1 = g.initializer(`${name}.b1`, params.b1, [hidden]);
  const w2 = g.initializer(`${name}.w2`, params.w2, [hidden, 4]);
  const b2 = g.initializer(`${name}.b2`, params.b2, [4]);
  const h = g.node('Relu', [g.node('Add', [g.node('MatMul', [pooled, w1])[0], b1])[0]])[0];
  const raw = g.node('Add', [g.node('MatMul', [h, w2])[0], b2])[0]; // [n, 4]
  const [a, u, v, s] = g.node('Split', [raw], { axis: attr.int(1) }, 4); // each [n, 1]
  const scalar = (label: string, value: number) =>
    g.initializer(g.fresh(`${name}.${label}`), new Float32Array([value]), []);
  const phi = bounds.rotation ? a : g.node('Mul', [a, scalar('no_rotation', 0)])[0];
  const k = g.node('Exp', [g.node('Mul', [g.node('Tanh', [s])[0], scalar('max_log_scale', bounds.maxLogScale)])[0]])[0];
  const kc = g.node('Mul', [k, g.node('Cos', [phi])[0]])[0];
  const ks = g.node('Mul', [k, g.node('Sin', [phi])[0]])[0];
  const shift = (t: string) => g.node('Mul', [g.node('Tanh', [t])[0], scalar('max_shift', bounds.maxShift)])[0];
  const minusKs = g.node('Neg', [ks])[0];
  const flat = g.node('Concat', [kc, minusKs, shift(u), ks, kc, shift(v)], { axis: attr.int(1) })[0];
  // named, so that a later graph piece can undo this pose (`transformerTheta`)
  const [theta] = g.node('Reshape', [flat, g.ints('theta_shape', [-1, 2, 3])], {}, [transformerTheta(name)]);
  const grid = lowerAffineGrid(g, theta, { height, width, name });
  return lowerGridSample(g, xNchw, grid, { padding: bounds.padding });
}
