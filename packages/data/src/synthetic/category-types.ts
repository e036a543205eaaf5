/**
 * What a synthetic category is: a renderer of normal images (each a pure function of its RNG),
 * the defect types of its test set, and how one defective test image and its exact mask are made.
 */
import type { Rng } from '@cfa/tensor-runtime';
import type { Canvas } from './canvas';
import type { Pose } from './pose';

export type SyntheticKind = 'texture' | 'object';

/** Test-set defect folders. The classic set: scratch, blob, stain, hole, missing. */
export type DefectType = 'scratch' | 'blob' | 'stain' | 'hole' | 'missing' | 'spot' | 'colour' | 'crack' | 'thread';

export interface NormalImage {
  canvas: Canvas;
  /** Where the object is (all 1 for textures): defects of objects stay on it. */
  region: Uint8Array;
  /** Background colour, for "missing part" defects. */
  background: (x: number, y: number) => [number, number, number];
  /** Parts `render` can leave out (`RenderOptions.omit`): the "missing part" defects of objects. */
  parts?: string[];
}

export interface RenderOptions {
  /** Leave this part out (one of `NormalImage.parts`). */
  omit?: string;
}

export interface DefectiveImage {
  image: NormalImage;
  /** 0/1 [size, size]: exactly the pixels the defect changed. */
  mask: Uint8Array;
}

export interface SyntheticCategory {
  name: string;
  kind: SyntheticKind;
  /** Every channel equal (like MVTec AD's grid, screw and zipper). */
  grayscale: boolean;
  /** One line: what it imitates, for the README and `--help`. */
  description: string;
  defects: DefectType[];
  render(rng: Rng, size: number, options?: RenderOptions): NormalImage;
  /** Objects: where `render(rng, size)` puts the object — the same draw, without drawing. */
  pose?(rng: Rng, size: number): Pose;
  /** One test image with `defect` and its exact mask. */
  defective(rng: Rng, size: number, defect: DefectType): DefectiveImage;
}
