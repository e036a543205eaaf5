/**
 * PatchCore's locally aware patch features (Roth et al. 2022, §3.1; patchcore-inspection
 * `src/patchcore/patchcore.py` `PatchCore._embed`, `PatchMaker.patchify`, and `common.py`
 * `Preprocessing` / `MeanMapper` / `Aggregator`), on TensorFlow.js:
 *
 *   1. every map's p×p neighbourhoods (stride 1, zero padding (p−1)/2: `torch.nn.Unfold`), each
 *      patch a vector of C·p² values in Unfold's order (channel-major, then the p×p window);
 *   2. each such vector adaptive-average-pooled to `preDim` (`MeanMapper`);
 *   3. the maps after the first bilinearly upsampled (align_corners = false) to the first map's
 *      grid, as the reference code does with the unfolded features;
 *   4. the layers' vectors concatenated and adaptive-average-pooled to `targetDim` (`Aggregator`).
 *
 * Steps 2 and 3 are linear on different axes (features, grid), so pooling before upsampling
 * computes the reference's upsample-then-pool exactly, on 1/(C·p²/preDim) of the values.
 * Nothing here trains: the result is a pure function of the image, which the feature cache stores.
 *
 * @example
 * ```ts
 * const features = localPatchFeatures({ maps: [layer2, layer3], patchSize: 3, preDim: 1024, targetDim: 1024 });
 * // layer2 [N,28,28,512], layer3 [N,14,14,1024] → [N,28,28,1024]
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { assert, assertShape } from '@cfa/tensor-runtime';
import { adaptivePoolBins, adaptivePoolTaps } from './adaptive-pool';

export interface LocalPatchFeaturesParams {
  /** Feature maps, the patch grid's first, each [N, h, w, C] (NHWC, float32). */
  maps: tf.Tensor4D[];
  /** Side p of the neighbourhood (odd; PatchCore's `patchsize`, 3). */
  patchSize: number;
  /** Per-layer dimension (`pretrain_embed_dimension`, 1024). */
  preDim: number;
  /** Final dimension (`target_embed_dimension`, 1024). */
  targetDim: number;
}

/** Checks shared by both engines' versions: an odd patch size and positive dimensions. */
export function checkLocalPatchOptions(
  caller: string,
  { patchSize, preDim, targetDim }: Omit<LocalPatchFeaturesParams, 'maps'>,
): void {
  assert(
    Number.isInteger(patchSize) && patchSize >= 1 && patchSize % 2 === 1,
    caller,
    () => `patchSize must be an odd positive integer (the neighbourhood is centred on its patch), got ${patchSize}`,
  );
  for (const [name, v] of [
    ['preDim', preDim],
    ['targetDim', targetDim],
  ] as const)
    assert(Number.isInteger(v) && v >= 1, caller, () => `${name} must be a positive integer, got ${v}`);
}

/** x [N, h, w, C] → its p×p neighbourhoods [N, h, w, C·p²] in `torch.nn.Unfold`'s order (c·p² + ky·p + kx). */
function unfoldNeighbourhoods(x: tf.Tensor4D, patchSize: number): tf.Tensor4D {
  if (patchSize === 1) return x.clone();
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const r = (patchSize - 1) / 2;
    const padded = tf.pad(x, [
      [0, 0],
      [r, r],
      [r, r],
      [0, 0],
    ]);
    const shifts: tf.Tensor4D[] = [];
    for (let ky = 0; ky < patchSize; ky++)
      for (let kx = 0; kx < patchSize; kx++) shifts.push(tf.slice(padded, [0, ky, kx, 0], [n, h, w, c]));
    return tf.reshape(tf.stack(shifts, 4), [n, h, w, c * patchSize * patchSize]);
  });
}

/** Adaptive average pooling of the last axis (`adaptivePoolBins`) to `outLength`. */
function poolLastAxis(x: tf.Tensor4D, outLength: number): tf.Tensor4D {
  const [n, h, w, length] = x.shape;
  const bins = adaptivePoolBins(length, outLength);
  return tf.tidy(() => {
    if (bins.uniformWidth === 1) return x.clone();
    if (bins.uniformWidth > 1) return tf.mean(tf.reshape(x, [n, h, w, outLength, bins.uniformWidth]), 4);
    const { indices, weights } = adaptivePoolTaps(bins);
    const slots = indices.map((index, s) =>
      tf.mul(tf.gather(x, tf.tensor1d(index, 'int32'), 3), tf.tensor1d(weights[s])),
    );
    return tf.addN(slots) as tf.Tensor4D;
  });
}

/** Returns [N, H, W, targetDim], H×W the first map's grid. */
export function localPatchFeatures(params: LocalPatchFeaturesParams): tf.Tensor4D {
  const { maps, patchSize, preDim, targetDim } = params;
  const caller = 'localPatchFeatures';
  checkLocalPatchOptions(caller, params);
  if (maps.length === 0) throw new Error(`Error in ${caller}: maps must hold at least one feature map`);
  const bound = assertShape(caller, 'maps[0]', maps[0].shape, ['N', 'H', 'W', null]);
  maps.forEach((m, i) => assertShape(caller, `maps[${i}]`, m.shape, ['N', null, null, null], bound));
  const [n, H, W] = maps[0].shape;
  return tf.tidy(() => {
    const layers = maps.map((m) => {
      const unfolded = unfoldNeighbourhoods(m, patchSize);
      const pooled = poolLastAxis(unfolded, preDim);
      unfolded.dispose();
      return m.shape[1] === H && m.shape[2] === W ? pooled : tf.image.resizeBilinear(pooled, [H, W], false, true);
    });
    // the reference stacks the layers as [patches, layers, preDim] and flattens: layer-major
    const stacked = layers.length === 1 ? layers[0] : tf.concat(layers, 3);
    return poolLastAxis(tf.reshape(stacked, [n, H, W, layers.length * preDim]), targetDim);
  });
}
