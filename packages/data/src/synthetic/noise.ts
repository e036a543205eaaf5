/**
 * Continuous noise fields for the synthetic categories, sampled at any (x, y) — so an object can
 * be textured in its own rotated frame, and a texture can be stretched along its grain. Each field
 * is a pure function of the RNG it was made from (a seeded table of lattice values).
 *
 * - `createNoise`: smooth value noise in [0, 1], one lattice cell per unit.
 * - `fractal`: octaves of one noise field, normalised to [0, 1].
 * - `createCellular`: Worley (cellular) noise — distances to the nearest and second-nearest
 *   feature point and the nearest point's id — for stone grains, leather creases and speckles.
 *
 * @example
 * ```ts
 * const noise = createNoise(rng.fork('grain'));
 * const v = fractal(noise, x / 16, y / 16, 4); // features about 16 pixels wide
 * ```
 */
import type { Rng } from '@cfa/tensor-runtime';

/** √(x² + y²): `Math.hypot` is several times slower in V8, and these run per pixel. */
export const hypot = (x: number, y: number) => Math.sqrt(x * x + y * y);

/** A field (x, y) → [0, 1]. */
export type Noise = (x: number, y: number) => number;

const TABLE = 256;
const smooth = (t: number) => t * t * (3 - 2 * t);

/** A seeded permutation and value table: the lattice behind `createNoise` and `createCellular`. */
function lattice(rng: Rng): { hash: (ix: number, iy: number) => number; values: Float32Array } {
  const perm = Uint8Array.from(rng.permutation(TABLE));
  const values = Float32Array.from({ length: TABLE }, () => rng.next());
  const hash = (ix: number, iy: number) => perm[(perm[ix & (TABLE - 1)] + iy) & (TABLE - 1)];
  return { hash, values };
}

/** Smooth value noise: lattice values at integer points, smoothstep-interpolated between them. */
export function createNoise(rng: Rng): Noise {
  const { hash, values } = lattice(rng);
  return (x, y) => {
    const x0 = Math.floor(x),
      y0 = Math.floor(y);
    const tx = smooth(x - x0),
      ty = smooth(y - y0);
    const a = values[hash(x0, y0)],
      b = values[hash(x0 + 1, y0)],
      c = values[hash(x0, y0 + 1)],
      d = values[hash(x0 + 1, y0 + 1)];
    return (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty;
  };
}

/** Octaves of `noise` (each twice the frequency, half the weight), in [0, 1]. */
export function fractal(noise: Noise, x: number, y: number, octaves = 4): number {
  let sum = 0,
    amp = 1,
    total = 0,
    f = 1;
  for (let o = 0; o < octaves; o++) {
    // each octave is shifted so that the lattices of the octaves do not line up
    sum += amp * noise(x * f + 17.3 * o, y * f - 9.1 * o);
    total += amp;
    amp /= 2;
    f *= 2;
  }
  return sum / total;
}

export interface CellularSample {
  /** Distance to the nearest feature point, in cells. */
  f1: number;
  /** Distance to the second-nearest feature point, in cells. */
  f2: number;
  /** The nearest point's id, uniform in [0, 1): a per-grain random value. */
  id: number;
}

/** Worley noise: one jittered feature point per unit cell. */
export function createCellular(rng: Rng): (x: number, y: number) => CellularSample {
  const { hash, values } = lattice(rng);
  const jitter = (ix: number, iy: number, k: number) => values[(hash(ix, iy) + k * 97) & (TABLE - 1)];
  return (x, y) => {
    const cx = Math.floor(x),
      cy = Math.floor(y);
    let f1 = Infinity,
      f2 = Infinity,
      id = 0;
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        const ix = cx + dx,
          iy = cy + dy;
        const px = ix + jitter(ix, iy, 1),
          py = iy + jitter(ix, iy, 2);
        const d = hypot(x - px, y - py);
        if (d < f1) {
          f2 = f1;
          f1 = d;
          id = jitter(ix, iy, 3);
        } else if (d < f2) f2 = d;
      }
    return { f1, f2, id };
  };
}
