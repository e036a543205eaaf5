/**
 * Half-pixel bilinear interpolation weights along one axis — the one definition of every bilinear
 * resize of a patch grid in the pipeline: the embedding pyramid's upsampling to the largest map
 * (paper §3.1, `F.interpolate(..., mode='bilinear', align_corners=False)` in the reference code)
 * on typed arrays and as ONNX constants, and the anomaly map's upsampling to the input size
 * (paper §3.3; @cfa/scoring composes it with the Gaussian blur).
 *
 *   source(i) = max(0, (i + ½)·in/out − ½),  lower = ⌊source⌋,  upper = min(lower + 1, in − 1),
 *   w_upper = source − lower,  w_lower = 1 − w_upper
 *
 * (PyTorch `align_corners=False`, ONNX `half_pixel`, tfjs `halfPixelCenters`). The weights come
 * in float32, as the descriptor has always used them, or float64, which the anomaly map's
 * float64 operator needs to stay exact.
 *
 * @example
 * ```ts
 * bilinearMatrix(2, 4); // [1, 0,  0.75, 0.25,  0.25, 0.75,  0, 1]  ([4, 2], row-major)
 * const { lower, upper, wUpper } = bilinearTaps(56, 224, 'float64');
 * ```
 */

/** Float32 or float64 weights. */
export type BilinearPrecision = 'float32' | 'float64';

export interface BilinearTaps<W extends Float32Array | Float64Array = Float32Array | Float64Array> {
  /** Each output sample's lower source index, [outSize]. */
  lower: Int32Array;
  /** Its upper source index (the last sample repeats at the edge), [outSize]. */
  upper: Int32Array;
  /** The upper one's weight; the lower one's is 1 − it. [outSize]. */
  wUpper: W;
}

/** The two source samples of each output sample of a resize `inSize` → `outSize`, and the upper one's weight. */
export function bilinearTaps(inSize: number, outSize: number, precision: 'float64'): BilinearTaps<Float64Array>;
export function bilinearTaps(inSize: number, outSize: number, precision?: 'float32'): BilinearTaps<Float32Array>;
export function bilinearTaps(inSize: number, outSize: number, precision: BilinearPrecision = 'float32'): BilinearTaps {
  return taps(inSize, outSize, precision);
}

function taps(inSize: number, outSize: number, precision: BilinearPrecision): BilinearTaps {
  const lower = new Int32Array(outSize),
    upper = new Int32Array(outSize),
    wUpper = precision === 'float64' ? new Float64Array(outSize) : new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let i = 0; i < outSize; i++) {
    const source = Math.max(0, (i + 0.5) * scale - 0.5);
    lower[i] = Math.floor(source);
    upper[i] = Math.min(lower[i] + 1, inSize - 1);
    wUpper[i] = source - lower[i];
  }
  return { lower, upper, wUpper };
}

/**
 * The resize `inSize` → `outSize` as a dense [outSize, inSize] matrix (row-major): each row holds
 * `bilinearTaps`' two weights (one weight of 1 where both taps are the same sample).
 */
export function bilinearMatrix(inSize: number, outSize: number, precision: 'float64'): Float64Array;
export function bilinearMatrix(inSize: number, outSize: number, precision?: 'float32'): Float32Array;
export function bilinearMatrix(
  inSize: number,
  outSize: number,
  precision: BilinearPrecision = 'float32',
): Float32Array | Float64Array {
  const m = precision === 'float64' ? new Float64Array(outSize * inSize) : new Float32Array(outSize * inSize);
  const { lower, upper, wUpper } = taps(inSize, outSize, precision);
  for (let i = 0; i < outSize; i++) {
    m[i * inSize + lower[i]] += 1 - wUpper[i];
    m[i * inSize + upper[i]] += wUpper[i];
  }
  return m;
}
