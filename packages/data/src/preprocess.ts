/**
 * A decoded image (and its mask) under a view, ImageNet-normalised: the model's input. The view's
 * geometry (`viewRasters`) and the normalisation (`normalizeImageNet`) are separate steps, because
 * an exported ONNX model takes the geometry's output and normalises inside its graph.
 * Mean 0.485/0.456/0.406, std 0.229/0.224/0.225 (paper §4.1; docs/method.md, "Data").
 *
 * @example
 * ```ts
 * const { image, mask } = applyView({ image: decoded, mask: decodedMask, view, sampleId: 'test/crack/000' });
 * ```
 */
import type { Raster } from './raster';
import { crop, resizeBilinearPillow, resizeNearest, rotateAboutCentre } from './resize';
import { resizeLanczos } from './resample';
import { type View, viewPlacement } from './view';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export interface ViewedSample {
  /** [size, size, 3], normalised. */
  image: Float32Array;
  /** [size, size], 0/1. */
  mask: Uint8Array;
  size: number;
}

export function applyView(params: {
  image: Raster;
  mask: Raster<Uint8Array>;
  view: View;
  sampleId: string;
}): ViewedSample {
  const viewed = viewRasters(params);
  return { image: normalizeImageNet(viewed.image.data), mask: viewed.mask!.data, size: viewed.size };
}

/**
 * The view's geometry alone (rotation, resize, crop) of an image in [0, 1] and its mask: what an
 * exported model takes as input, since it normalises inside its graph (`lowerImageNetNormalization`).
 */
export function viewRasters(params: { image: Raster; mask?: Raster<Uint8Array>; view: View; sampleId: string }): {
  image: Raster;
  /** Present when a mask was given. */
  mask?: Raster<Uint8Array>;
  size: number;
} {
  const place = viewPlacement(params.view, params.sampleId, params.image);
  const resize = params.view.filter === 'bilinear' ? resizeBilinearPillow : resizeLanczos;
  let image = params.image;
  let mask = params.mask;
  if (place.angleDeg !== 0) {
    image = rotateAboutCentre(image, place.angleDeg, 'bilinear');
    if (mask) mask = rotateAboutCentre(mask, place.angleDeg, 'nearest');
  }
  image = crop(resize(image, place.resizeWidth, place.resizeHeight), place.top, place.left, place.size);
  if (mask) mask = crop(resizeNearest(mask, place.resizeWidth, place.resizeHeight), place.top, place.left, place.size);
  return { image, mask, size: place.size };
}

/** RGB in [0, 1] (HWC) → ImageNet-normalised: (x − mean) / std per channel. */
export function normalizeImageNet(rgb: Float32Array): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < out.length; i++) out[i] = (rgb[i] - IMAGENET_MEAN[i % 3]) / IMAGENET_STD[i % 3];
  return out;
}

/** Back to displayable RGB bytes. */
export function denormalizeToRgb8(image: Float32Array, height: number, width: number): Uint8Array {
  const out = new Uint8Array(height * width * 3);
  for (let i = 0; i < out.length; i++)
    out[i] = Math.max(0, Math.min(255, Math.round((image[i] * IMAGENET_STD[i % 3] + IMAGENET_MEAN[i % 3]) * 255)));
  return out;
}
