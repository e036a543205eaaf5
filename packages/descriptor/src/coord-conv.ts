/**
 * The trainable patch descriptor φ (paper §3.1; anomalib `cfa/torch_model.py`, `CoordConv2d` /
 * `AddCoords`): append coordinate channels to the embedding, then a 1×1 convolution
 * D (+2 or +3) → D/γd with bias.
 *
 * Coordinates follow the reference `AddCoords`: channel D holds the row index and channel D+1 the
 * column index, each scaled to [-1, 1]; the optional radius channel is
 * √((row − 0.5)² + (col − 0.5)²) on those scaled values, exactly as the reference writes it.
 *
 * Parameters live in plain Float32Arrays (the optimiser updates them on every engine); the weight
 * is stored as a matrix [Din, Dout] so that φ = [X, coords] · W + b is one matrix product.
 *
 * @example
 * ```ts
 * const params = createCoordConvParams({ inChannels: 448, gammaD: 1, seed: 0 });
 * params.weight.length; // (448 + 2) × 448
 * ```
 */
import { assert, createRng } from '@cfa/tensor-runtime';

export interface CoordConvParams {
  /** Embedding channels D. */
  inChannels: number;
  /** Coordinate channels: 2, or 3 with the radius. */
  coordChannels: number;
  /** D' = floor(outMultiplier · D / γd). */
  outChannels: number;
  /** [inChannels + coordChannels, outChannels], row-major. */
  weight: Float32Array;
  /** [outChannels]. */
  bias: Float32Array;
}

/** Throws, naming `op`, unless `params` has the shape a runner or graph was `built` for (D + c → D′). */
export function assertCoordConvShape(
  op: string,
  built: Pick<CoordConvParams, 'inChannels' | 'coordChannels' | 'outChannels'>,
  params: Pick<CoordConvParams, 'inChannels' | 'coordChannels' | 'outChannels'>,
): void {
  const shape = (p: typeof params) => `${p.inChannels}+${p.coordChannels}→${p.outChannels}`;
  assert(
    params.inChannels === built.inChannels &&
      params.coordChannels === built.coordChannels &&
      params.outChannels === built.outChannels,
    op,
    () => `built for ${shape(built)}; got params ${shape(params)}`,
  );
}

export type CoordConvInit = 'he-normal' | 'torch-default';

export interface CoordConvOptions {
  inChannels: number;
  /** Descriptor compression γd (paper Table 6). */
  gammaD: number;
  /** 2 for EfficientNet in the reference code (output 2·D/γd), else 1. */
  outMultiplier?: number;
  withRadius?: boolean;
  /**
   * 'he-normal' (the spec): weights N(0, 2/fan_in), bias 0.
   * 'torch-default': nn.Conv2d's own init (kaiming_uniform with a = √5, bias U(±1/√fan_in)),
   * which is what the reference code gets.
   */
  init?: CoordConvInit;
  seed: number;
}

export function coordConvOutChannels(inChannels: number, gammaD: number, outMultiplier = 1): number {
  return Math.floor((outMultiplier * inChannels) / gammaD);
}

export function createCoordConvParams(options: CoordConvOptions): CoordConvParams {
  const { inChannels, gammaD, outMultiplier = 1, withRadius = false, init = 'he-normal', seed } = options;
  if (!(gammaD >= 1)) throw new Error(`createCoordConvParams: gammaD must be ≥ 1, got ${gammaD}`);
  const coordChannels = withRadius ? 3 : 2;
  const fanIn = inChannels + coordChannels;
  const outChannels = coordConvOutChannels(inChannels, gammaD, outMultiplier);
  if (outChannels < 1)
    throw new Error(`createCoordConvParams: D/γd = ${inChannels}/${gammaD} leaves no output channel`);
  const rng = createRng(seed).fork('coord-conv');
  const weight = new Float32Array(fanIn * outChannels);
  const bias = new Float32Array(outChannels);
  if (init === 'he-normal') {
    const std = Math.sqrt(2 / fanIn);
    for (let i = 0; i < weight.length; i++) weight[i] = rng.normal() * std;
  } else {
    const bound = 1 / Math.sqrt(fanIn); // kaiming_uniform(a=√5): gain √(2/(1+5)), bound gain·√(3/fan_in)
    for (let i = 0; i < weight.length; i++) weight[i] = rng.uniform(-bound, bound);
    for (let i = 0; i < bias.length; i++) bias[i] = rng.uniform(-bound, bound);
  }
  return { inChannels, coordChannels, outChannels, weight, bias };
}

/** Coordinate channels for an H×W grid: [H·W, 2 or 3], row-major over (row, col). */
export function coordinateChannels(height: number, width: number, withRadius = false): Float32Array {
  const c = withRadius ? 3 : 2;
  const out = new Float32Array(height * width * c);
  const scale = (i: number, n: number) => (n > 1 ? (2 * i) / (n - 1) - 1 : -1);
  for (let r = 0; r < height; r++) {
    for (let col = 0; col < width; col++) {
      const o = (r * width + col) * c;
      const xx = scale(r, height);
      const yy = scale(col, width);
      out[o] = xx;
      out[o + 1] = yy;
      if (withRadius) out[o + 2] = Math.sqrt((xx - 0.5) ** 2 + (yy - 0.5) ** 2);
    }
  }
  return out;
}

/** PyTorch Conv2d weight [Dout, Din, 1, 1] ↔ our matrix [Din, Dout]. */
export function coordConvWeightToTorch(params: CoordConvParams): Float32Array {
  const din = params.inChannels + params.coordChannels;
  const out = new Float32Array(params.weight.length);
  for (let i = 0; i < din; i++)
    for (let o = 0; o < params.outChannels; o++) out[o * din + i] = params.weight[i * params.outChannels + o];
  return out;
}

export function coordConvWeightFromTorch(
  torchWeight: Float32Array,
  inTotal: number,
  outChannels: number,
): Float32Array {
  const out = new Float32Array(torchWeight.length);
  for (let i = 0; i < inTotal; i++)
    for (let o = 0; o < outChannels; o++) out[i * outChannels + o] = torchWeight[o * inTotal + i];
  return out;
}

export function cloneCoordConvParams(p: CoordConvParams): CoordConvParams {
  return { ...p, weight: Float32Array.from(p.weight), bias: Float32Array.from(p.bias) };
}
