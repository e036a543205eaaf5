/**
 * CFA++ (CFA paper §4.2, Tables 2, 3 and 7; docs/method.md "Data"), for any method: the ensemble of
 * two models of one method on two views — the
 * standard view (resize 256 + center-crop 224) and its resize-only companion (resize 224,
 * `companionView`) — scored by the mean of the two anomaly maps. The companion's map covers the
 * whole image, so each one is first moved onto the primary view's grid (`alignCompanionMap`:
 * bilinear resample to the primary's resize, then the sample's crop); the image score is then the
 * maximum of the mean map, the same reduction as a single view's (`imageScores` of @cfa/scoring).
 *
 * @example
 * ```ts
 * const primary = await method.predict({ model: fitted, test, inputSize: 224 });
 * const companion = await method.predict({ model: fittedCompanion, test: companionTest, inputSize: 224 });
 * const combined = combineViewPredictions({ primaryView: config.view, primary, companion });
 * combined.maps;        // [N, 224, 224]: (primary + aligned companion) / 2
 * combined.imageScores; // max of each combined map
 * ```
 */
import { alignCompanionMap, type SourceSize, type View, viewKey, viewOutputSize } from '@cfa/data';
import { imageScores } from '@cfa/scoring';
import type { MethodConfigBase } from './common-config';
import type { AnomalyMethod } from './method';
import type { Prediction } from './prediction';

export interface CombineViewPredictionsParams {
  /** The primary view (center-crop or rd-mvtec): the grid of the result. */
  primaryView: View;
  /** Predictions on the primary view: maps [N, size, size]. */
  primary: Prediction;
  /** Predictions on `companionView(primaryView)` for the same samples in the same order: maps [N, size', size']. */
  companion: Prediction;
  /** Each sample's source image size (non-square sources are placed by their aspect); default square. */
  sources?: SourceSize[];
  /** The method's image score of a map (`AnomalyMethod.imageScores`); default the map's maximum. */
  scoreMaps?: (maps: Float32Array, count: number, size: number) => Float32Array;
}

/**
 * @returns a Prediction on the primary's grid: `maps` the per-pixel mean of the primary map and the
 *   aligned companion map, `imageScores` their maxima (or `scoreMaps`), `patchScores` the primary's (the companion's
 *   patch grid covers another region of the image), `seconds` both predictions plus the alignment.
 * @throws Error when the two predictions do not cover the same samples in the same order, or their
 *   maps do not have the sizes they claim, or the primary's size is not its view's.
 */
export function combineViewPredictions({
  primaryView,
  primary,
  companion,
  sources,
  scoreMaps = (maps, count, size) => imageScores({ maps, count, size }),
}: CombineViewPredictionsParams): Prediction {
  const start = performance.now();
  const n = primary.ids.length;
  if (companion.ids.length !== n || companion.ids.some((id, i) => id !== primary.ids[i])) {
    throw new Error(
      `combineViewPredictions: the companion predicted ${companion.ids.length} samples, the primary ${n}; both must list the same ids in the same order`,
    );
  }
  if (primary.size !== viewOutputSize(primaryView)) {
    throw new Error(
      `combineViewPredictions: primary maps are ${primary.size}² but the view ${viewKey(primaryView)} gives ${viewOutputSize(primaryView)}²`,
    );
  }
  const size = primary.size,
    side = companion.size;
  for (const [name, p] of [
    ['primary', primary],
    ['companion', companion],
  ] as const) {
    if (p.maps.length !== n * p.size * p.size)
      throw new Error(
        `combineViewPredictions: ${name} maps must hold [${n}, ${p.size}, ${p.size}] values, got ${p.maps.length}`,
      );
  }
  const pixels = size * size;
  const maps = new Float32Array(n * pixels);
  for (let i = 0; i < n; i++) {
    const aligned = alignCompanionMap({
      map: companion.maps.subarray(i * side * side, (i + 1) * side * side),
      side,
      primary: primaryView,
      sampleId: primary.ids[i],
      source: sources?.[i],
    });
    const offset = i * pixels;
    for (let j = 0; j < pixels; j++) maps[offset + j] = (primary.maps[offset + j] + aligned[j]) / 2;
  }
  return {
    maps,
    patchScores: primary.patchScores,
    imageScores: scoreMaps(maps, n, size),
    size,
    ids: primary.ids,
    seconds: primary.seconds + companion.seconds + (performance.now() - start) / 1000,
  };
}

/** A method's image score of maps (its `imageScores`, else the map's maximum), for `scoreMaps`. */
export function methodImageScores<C extends MethodConfigBase>(
  method: Pick<AnomalyMethod<C>, 'imageScores'>,
  config: C,
): (maps: Float32Array, count: number, size: number) => Float32Array {
  return method.imageScores
    ? (maps, count, size) => method.imageScores!(maps, count, size, config)
    : (maps, count, size) => imageScores({ maps, count, size });
}
