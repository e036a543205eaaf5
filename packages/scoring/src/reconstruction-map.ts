/**
 * From per-position reconstruction distances to anomaly maps and image scores, as the CRAD reference
 * code does it (`models/reconstructions/crad.py`: `nn.UpsamplingBilinear2d(scale_factor=8)`, i.e.
 * bilinear with `align_corners=True` to the input size; `utils/eval_helper.py`: `EvalDataMeta`
 * smooths every map with `F.avg_pool2d(pred, 21, 1, 21 // 2)` before any metric, and
 * `EvalImageMax` scores an image by the maximum of its map average-pooled over 32 × 32 windows).
 *
 * The upsampling and the 21 × 21 box (zero padding counted, so every window divides by 441) are
 * linear and separable: one [S, h] operator per axis, applied as A_h · D · A_wᵀ exactly as
 * `anomalyMaps` applies CFA's (`separableMaps`, `lowerSeparableMaps`). The image score's 32 × 32
 * mean is taken over the smoothed map, windows inside the map only (stride 1, no padding).
 *
 * @example
 * ```ts
 * const maps = reconstructionMaps({ distances, count: 2, height: 28, width: 28, outputSize: 224, smoothing: 21 });
 * const scores = pooledMaxScores({ maps, count: 2, size: 224, pool: 32 });
 * ```
 */
import { attr, type OnnxGraphBuilder } from '@cfa/tensor-runtime';
import { type MapOperator, separableMaps, sparseOperator } from './anomaly-map';
import { lowerSeparableMaps } from './anomaly-map-onnx';

export interface ReconstructionMapParams {
  /** Distances [N, height, width]. */
  distances: Float32Array;
  count: number;
  height: number;
  width: number;
  /** The map's side (the input size). */
  outputSize: number;
  /** Side of the box filter (odd, 21); 1 disables it. */
  smoothing: number;
}

/**
 * Along one axis: bilinear upsampling inSize → outSize with aligned corners (source = i·(in − 1)/(out − 1)),
 * then the mean over `box` samples centred on each output, zeros beyond the ends: [outSize, inSize].
 */
export function reconstructionMapMatrix(inSize: number, outSize: number, box: number): Float64Array {
  if (box < 1 || box % 2 === 0)
    throw new Error(`reconstructionMapMatrix: the box side must be odd and ≥ 1, got ${box}`);
  const up = new Float64Array(outSize * inSize);
  const scale = outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  for (let i = 0; i < outSize; i++) {
    const source = i * scale;
    const i0 = Math.min(Math.floor(source), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const w = source - i0;
    up[i * inSize + i0] += 1 - w;
    up[i * inSize + i1] += w;
  }
  if (box === 1) return up;
  const radius = (box - 1) / 2;
  const out = new Float64Array(outSize * inSize);
  for (let i = 0; i < outSize; i++)
    for (let t = Math.max(0, i - radius); t <= Math.min(outSize - 1, i + radius); t++)
      for (let j = 0; j < inSize; j++) out[i * inSize + j] += up[t * inSize + j] / box;
  return out;
}

const operators = new Map<string, MapOperator>();
function operator(inSize: number, outSize: number, box: number): MapOperator {
  const key = `${inSize}:${outSize}:${box}`;
  let op = operators.get(key);
  if (!op) operators.set(key, (op = sparseOperator(reconstructionMapMatrix(inSize, outSize, box), inSize, outSize)));
  return op;
}

/** Maps [N, outputSize, outputSize]: each distance map upsampled (aligned corners) and box-smoothed. */
export function reconstructionMaps({
  distances,
  count,
  height,
  width,
  outputSize,
  smoothing,
}: ReconstructionMapParams): Float32Array {
  return separableMaps({
    scores: distances,
    count,
    height,
    width,
    outputSize,
    rows: operator(height, outputSize, smoothing),
    cols: operator(width, outputSize, smoothing),
    context: 'reconstructionMaps',
  });
}

/** `reconstructionMaps` in a graph: distances (any layout of [N, height, width]) → [N, S, S]. */
export function lowerReconstructionMaps(
  g: OnnxGraphBuilder,
  distances: string,
  p: Omit<ReconstructionMapParams, 'distances' | 'count'>,
): string {
  return lowerSeparableMaps(g, distances, {
    height: p.height,
    width: p.width,
    outputSize: p.outputSize,
    rows: operator(p.height, p.outputSize, p.smoothing).matrix,
    cols: operator(p.width, p.outputSize, p.smoothing).matrix,
  });
}

/** The window side a map of `size` allows: `pool`, or the whole map when it is smaller. */
export function poolWindow(pool: number, size: number): number {
  return Math.min(pool, size);
}

/**
 * Image score = the maximum over the map of its `pool` × `pool` window means (stride 1, windows
 * inside the map; the reference's `EvalImageMax` with `avgpool_size: [32, 32]`), [N].
 */
export function pooledMaxScores({
  maps,
  count,
  size,
  pool,
}: {
  maps: Float32Array;
  count: number;
  size: number;
  pool: number;
}): Float32Array {
  if (maps.length !== count * size * size)
    throw new Error(`pooledMaxScores: maps must hold [${count}, ${size}, ${size}] values, got ${maps.length}`);
  const k = poolWindow(pool, size);
  const span = size - k + 1;
  const out = new Float32Array(count);
  const columns = new Float64Array(span * size); // window sums along each row, [size rows, span]
  for (let n = 0; n < count; n++) {
    const base = n * size * size;
    for (let y = 0; y < size; y++) {
      let sum = 0;
      for (let x = 0; x < k; x++) sum += maps[base + y * size + x];
      columns[y * span] = sum;
      for (let x = 1; x < span; x++) {
        sum += maps[base + y * size + x + k - 1] - maps[base + y * size + x - 1];
        columns[y * span + x] = sum;
      }
    }
    let best = -Infinity;
    for (let x = 0; x < span; x++) {
      let sum = 0;
      for (let y = 0; y < k; y++) sum += columns[y * span + x];
      best = Math.max(best, sum);
      for (let y = 1; y < span; y++) {
        sum += columns[(y + k - 1) * span + x] - columns[(y - 1) * span + x];
        best = Math.max(best, sum);
      }
    }
    out[n] = best / (k * k);
  }
  return out;
}

/** `pooledMaxScores` in a graph: maps [N, S, S] → [N]. */
export function lowerPooledMaxScores(
  g: OnnxGraphBuilder,
  maps: string,
  { size, pool }: { size: number; pool: number },
): string {
  const k = poolWindow(pool, size);
  const pooled = g.node('AveragePool', [g.node('Unsqueeze', [maps, g.ints('axes', [1])])[0]], {
    kernel_shape: attr.ints([k, k]),
    strides: attr.ints([1, 1]),
  })[0];
  return g.node('ReduceMax', [pooled], { axes: attr.ints([1, 2, 3]), keepdims: attr.int(0) })[0];
}
