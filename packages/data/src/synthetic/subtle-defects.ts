/**
 * The standard set's defects: subtle, like most of MVTec AD's — thin low-contrast scratches,
 * dark hairline cracks, small partly transparent spots, faint colour shifts, stray threads, and
 * missing parts of objects. The mask is computed, not drawn: exactly the pixels whose 8-bit value
 * the defect changed (a missing part: the pixels where the image without the part differs).
 *
 * Each test image is a normal image (`render` with the stream `normal`) plus one defect drawn
 * from the stream `defect:<attempt>`; an attempt whose mask would be tiny (a scratch along a dark
 * fibre, a spot clipped by the border) is redrawn elsewhere.
 */
import type { Rng } from '@cfa/tensor-runtime';
import { countOn, toRgb8 } from './canvas';
import type { DefectType, DefectiveImage, NormalImage, SyntheticCategory } from './category-types';
import { createNoise, hypot } from './noise';
import { type Point, strokePolyline, wanderingPath } from './strokes';

type Rgb = [number, number, number];
type Draw = (image: NormalImage, rng: Rng, grayscale: boolean) => void;

/** A point inside `region`, between 20 % and 80 % of the image (so a center crop keeps the defect). */
function pointIn(rng: Rng, region: Uint8Array, size: number): Point {
  for (let attempt = 0; attempt < 2000; attempt++) {
    const x = rng.uniform(0.2 * size, 0.8 * size),
      y = rng.uniform(0.2 * size, 0.8 * size);
    if (region[Math.floor(y) * size + Math.floor(x)]) return [x, y];
  }
  throw new Error('synthetic: the object covers no pixel between 20 % and 80 % of the image');
}

/** Applies `colour` to the pixels `visit` reaches inside the region (each pixel once). */
function recolour(image: NormalImage, colour: (rgb: Rgb, index: number) => Rgb): (index: number) => void {
  const { rgb } = image.canvas;
  const done = new Uint8Array(image.region.length);
  return (i) => {
    if (!image.region[i] || done[i]) return;
    done[i] = 1;
    const [r, g, b] = colour([rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]], i);
    rgb[i * 3] = r;
    rgb[i * 3 + 1] = g;
    rgb[i * 3 + 2] = b;
  };
}

/** Pixels of an irregular blob of radius ≈ `radius` around `centre`. */
function blob(rng: Rng, size: number, centre: Point, radius: number, visit: (index: number) => void): void {
  const edge = createNoise(rng);
  const rx = radius * rng.uniform(0.75, 1.25),
    ry = radius * rng.uniform(0.75, 1.25);
  const turn = rng.uniform(0, Math.PI);
  const c = Math.cos(turn),
    s = Math.sin(turn);
  const reach = Math.ceil(1.3 * Math.max(rx, ry)) + 1;
  for (let y = Math.max(0, Math.floor(centre[1] - reach)); y <= Math.min(size - 1, centre[1] + reach); y++)
    for (let x = Math.max(0, Math.floor(centre[0] - reach)); x <= Math.min(size - 1, centre[0] + reach); x++) {
      const dx = x + 0.5 - centre[0],
        dy = y + 0.5 - centre[1];
      const d = hypot((c * dx + s * dy) / rx, (-s * dx + c * dy) / ry);
      if (d < 0.8 + 0.45 * edge((x * 3) / radius, (y * 3) / radius)) visit(y * size + x);
    }
}

/** A thin, faint line: ±5–10 % brightness, about one pixel wide. */
const scratch: Draw = (image, rng) => {
  const size = image.canvas.size;
  const s = size / 256;
  const delta = (rng.next() < 0.5 ? -1 : 1) * rng.uniform(0.05, 0.1);
  const path = wanderingPath(rng, {
    start: pointIn(rng, image.region, size),
    heading: rng.uniform(0, 2 * Math.PI),
    segments: 4 + rng.int(3),
    step: size * rng.uniform(0.02, 0.035),
    turn: 0.25,
  });
  strokePolyline(
    size,
    path,
    Math.max(1, rng.uniform(0.9, 1.4) * s),
    recolour(image, ([r, g, b]) => [r + delta, g + delta, b + delta]),
  );
};

/** A dark, jagged hairline: 25–45 % darker. */
const crack: Draw = (image, rng) => {
  const size = image.canvas.size;
  const s = size / 256;
  const keep = rng.uniform(0.55, 0.75);
  const path = wanderingPath(rng, {
    start: pointIn(rng, image.region, size),
    heading: rng.uniform(0, 2 * Math.PI),
    segments: 8 + rng.int(5),
    step: size * rng.uniform(0.01, 0.016),
    turn: 0.9,
  });
  strokePolyline(
    size,
    path,
    Math.max(1, rng.uniform(1, 1.6) * s),
    recolour(image, ([r, g, b]) => [r * keep, g * keep, b * keep]),
  );
};

const CONTAMINANTS: Rgb[] = [
  [0.27, 0.18, 0.1],
  [0.42, 0.46, 0.55],
  [0.72, 0.66, 0.3],
  [0.12, 0.12, 0.12],
];

/** A small, partly transparent spot (25–50 % opaque) of a contaminant. */
const spot: Draw = (image, rng, grayscale) => {
  const size = image.canvas.size;
  let tint = CONTAMINANTS[rng.int(CONTAMINANTS.length)];
  if (grayscale) tint = [tint[0], tint[0], tint[0]];
  const alpha = rng.uniform(0.25, 0.5);
  blob(
    rng.fork('edge'),
    size,
    pointIn(rng, image.region, size),
    size * rng.uniform(0.012, 0.028),
    recolour(image, ([r, g, b]) => [
      (1 - alpha) * r + alpha * tint[0],
      (1 - alpha) * g + alpha * tint[1],
      (1 - alpha) * b + alpha * tint[2],
    ]),
  );
};

/** A faint colour shift (grayscale: brightness) over a patch: each channel scaled by at most ±15 %. */
const colour: Draw = (image, rng, grayscale) => {
  const size = image.canvas.size;
  const strength = rng.uniform(0.08, 0.15);
  const factors: Rgb = grayscale
    ? (() => {
        const k = 1 + (rng.next() < 0.5 ? -1 : 1) * strength;
        return [k, k, k];
      })()
    : (() => {
        // a direction in colour space with no net brightness change
        const a = rng.uniform(0, 2 * Math.PI);
        const d = [Math.cos(a), Math.cos(a + (2 * Math.PI) / 3), Math.cos(a + (4 * Math.PI) / 3)];
        return [1 + strength * d[0], 1 + strength * d[1], 1 + strength * d[2]];
      })();
  blob(
    rng.fork('edge'),
    size,
    pointIn(rng, image.region, size),
    size * rng.uniform(0.04, 0.075),
    recolour(image, ([r, g, b]) => [r * factors[0], g * factors[1], b * factors[2]]),
  );
};

/** A stray fibre lying on the surface, 60–85 % opaque. */
const thread: Draw = (image, rng, grayscale) => {
  const size = image.canvas.size;
  const s = size / 256;
  const light = rng.next() < 0.5;
  const tint: Rgb = grayscale
    ? light
      ? [0.8, 0.8, 0.8]
      : [0.15, 0.15, 0.15]
    : light
      ? [0.86, 0.82, 0.7]
      : [0.16, 0.2, 0.3];
  const alpha = rng.uniform(0.6, 0.85);
  const path = wanderingPath(rng, {
    start: pointIn(rng, image.region, size),
    heading: rng.uniform(0, 2 * Math.PI),
    segments: 10 + rng.int(6),
    step: size * rng.uniform(0.012, 0.018),
    turn: 0.35,
  });
  strokePolyline(
    size,
    path,
    Math.max(1, rng.uniform(1.2, 1.9) * s),
    recolour(image, ([r, g, b]) => [
      (1 - alpha) * r + alpha * tint[0],
      (1 - alpha) * g + alpha * tint[1],
      (1 - alpha) * b + alpha * tint[2],
    ]),
  );
};

/** A bite out of the object's outline, replaced by the background: for objects without named parts. */
const bite: Draw = (image, rng) => {
  const size = image.canvas.size;
  const { region } = image;
  // the object's edge: the last object pixel walking outwards from a point on it
  const [sx, sy] = pointIn(rng, region, size);
  const a = rng.uniform(0, 2 * Math.PI);
  let ex = sx,
    ey = sy;
  for (let t = 0; t < size; t++) {
    const x = sx + t * Math.cos(a),
      y = sy + t * Math.sin(a);
    if (x < 0 || y < 0 || x >= size || y >= size) break;
    if (region[Math.floor(y) * size + Math.floor(x)]) {
      ex = x;
      ey = y;
    }
  }
  const { rgb } = image.canvas;
  blob(rng.fork('edge'), size, [ex, ey], size * rng.uniform(0.02, 0.035), (i) => {
    if (!region[i]) return;
    const [r, g, b] = image.background(i % size, Math.floor(i / size));
    rgb[i * 3] = r;
    rgb[i * 3 + 1] = g;
    rgb[i * 3 + 2] = b;
  });
};

const DRAW: Partial<Record<DefectType, Draw>> = { scratch, crack, spot, colour, thread };

/** 0/1 mask of the pixels whose 8-bit value differs between two renderings. */
function changedPixels(before: Uint8Array, after: Uint8Array): Uint8Array {
  const mask = new Uint8Array(before.length / 3);
  for (let i = 0; i < mask.length; i++)
    if (
      before[i * 3] !== after[i * 3] ||
      before[i * 3 + 1] !== after[i * 3 + 1] ||
      before[i * 3 + 2] !== after[i * 3 + 2]
    )
      mask[i] = 1;
  return mask;
}

/**
 * One defective test image of a standard-set category and its exact mask.
 *
 * @param category - the category (its `render`, `grayscale`, and for `missing` its parts).
 * @param rng - this test image's stream.
 * @param size - image side in pixels.
 * @param defect - one of the category's defect types.
 * @throws Error when the defect type is not drawable, or no attempt gave a mask of the minimum size.
 */
export function subtleDefective(
  category: SyntheticCategory,
  rng: Rng,
  size: number,
  defect: DefectType,
): DefectiveImage {
  const minPixels = Math.max(6, Math.round(size * size * 0.0004));
  for (let attempt = 0; attempt < 8; attempt++) {
    const r = rng.fork(`defect:${attempt}`);
    const normal = category.render(rng.fork('normal'), size);
    const before = toRgb8(normal.canvas);
    let image = normal;
    if (defect === 'missing') {
      const parts = normal.parts ?? [];
      if (parts.length) image = category.render(rng.fork('normal'), size, { omit: parts[r.int(parts.length)] });
      else bite(image, r, category.grayscale);
    } else {
      const draw = DRAW[defect];
      if (!draw) throw new Error(`synthetic: no '${defect}' defect in the standard set (category ${category.name})`);
      draw(image, r, category.grayscale);
    }
    const mask = changedPixels(before, toRgb8(image.canvas));
    if (countOn(mask) >= minPixels) return { image, mask };
  }
  throw new Error(`synthetic: could not place a '${defect}' defect on ${category.name} (${size} px)`);
}
