/**
 * The classic set's defects, drawn onto a normal image with their exact masks: the mask is exactly the set of pixels
 * the defect changed. Object defects stay on the object; texture defects anywhere away from the
 * border.
 */
import type { Rng } from '@cfa/tensor-runtime';
import { countOn, ellipseMask, intersect, polylineMask, valueNoise } from './canvas';
import type { DefectType, NormalImage } from './category-types';

/** A point inside `region`, at least `margin` pixels from the border. */
function pointIn(rng: Rng, region: Uint8Array, size: number, margin: number): [number, number] {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const x = rng.uniform(margin, size - margin),
      y = rng.uniform(margin, size - margin);
    if (region[Math.floor(y) * size + Math.floor(x)]) return [x, y];
  }
  return [size / 2, size / 2];
}

function apply(
  image: NormalImage,
  mask: Uint8Array,
  colour: (x: number, y: number, r: number, g: number, b: number) => [number, number, number],
): void {
  const { size, rgb } = image.canvas;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      if (!mask[i]) continue;
      const [r, g, b] = colour(x, y, rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]);
      rgb[i * 3] = r;
      rgb[i * 3 + 1] = g;
      rgb[i * 3 + 2] = b;
    }
}

function scratch(image: NormalImage, rng: Rng): Uint8Array {
  const size = image.canvas.size;
  let [x, y] = pointIn(rng, image.region, size, size * 0.2);
  const points: [number, number][] = [[x, y]];
  let heading = rng.uniform(0, 2 * Math.PI);
  const steps = 3 + rng.int(3);
  for (let s = 0; s < steps; s++) {
    heading += rng.uniform(-0.5, 0.5);
    const len = size * rng.uniform(0.05, 0.09);
    x = Math.min(size - 2, Math.max(2, x + len * Math.cos(heading)));
    y = Math.min(size - 2, Math.max(2, y + len * Math.sin(heading)));
    points.push([x, y]);
  }
  const mask = intersect(polylineMask(size, points, rng.uniform(1.5, 3)), image.region);
  const delta = rng.next() < 0.5 ? -0.3 : 0.28;
  apply(image, mask, (_x, _y, r, g, b) => [r + delta, g + delta, b + delta]);
  return mask;
}

function blob(image: NormalImage, rng: Rng): Uint8Array {
  const size = image.canvas.size;
  const [cx, cy] = pointIn(rng, image.region, size, size * 0.18);
  const mask = intersect(
    ellipseMask(size, cx, cy, size * rng.uniform(0.04, 0.08), size * rng.uniform(0.03, 0.06), rng.uniform(0, Math.PI)),
    image.region,
  );
  const texture = valueNoise(rng, size, 3);
  const shift = rng.next() < 0.5 ? -0.22 : 0.2;
  apply(image, mask, (x, y, r, g, b) => {
    const t = 0.12 * (texture[y * size + x] - 0.5);
    return [r + shift + t, g + shift + t, b + shift * 0.6 + t];
  });
  return mask;
}

function stain(image: NormalImage, rng: Rng): Uint8Array {
  const size = image.canvas.size;
  const [cx, cy] = pointIn(rng, image.region, size, size * 0.2);
  const rx = size * rng.uniform(0.06, 0.1),
    ry = size * rng.uniform(0.05, 0.09);
  const edge = valueNoise(rng, size, 6);
  const base = ellipseMask(size, cx, cy, rx * 1.3, ry * 1.3, rng.uniform(0, Math.PI));
  // an irregular outline: the ellipse's inner part, eroded by noise near its edge
  const mask = new Uint8Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const d = Math.hypot((x + 0.5 - cx) / rx, (y + 0.5 - cy) / ry);
      if (base[i] && image.region[i] && d < 0.75 + 0.5 * edge[i]) mask[i] = 1;
    }
  const tint: [number, number, number] = rng.next() < 0.5 ? [0.35, 0.22, 0.1] : [0.2, 0.3, 0.55];
  const alpha = rng.uniform(0.35, 0.5);
  apply(image, mask, (_x, _y, r, g, b) => [
    (1 - alpha) * r + alpha * tint[0],
    (1 - alpha) * g + alpha * tint[1],
    (1 - alpha) * b + alpha * tint[2],
  ]);
  return mask;
}

function hole(image: NormalImage, rng: Rng): Uint8Array {
  const size = image.canvas.size;
  const [cx, cy] = pointIn(rng, image.region, size, size * 0.18);
  const mask = ellipseMask(
    size,
    cx,
    cy,
    size * rng.uniform(0.03, 0.06),
    size * rng.uniform(0.03, 0.06),
    rng.uniform(0, Math.PI),
  );
  const texture = valueNoise(rng, size, 2);
  apply(image, mask, (x, y) => {
    const v = 0.06 + 0.05 * texture[y * size + x];
    return [v, v * 0.95, v * 0.9];
  });
  return mask;
}

/** A bite out of the object's outline, replaced by the background. */
function missing(image: NormalImage, rng: Rng): Uint8Array {
  const size = image.canvas.size;
  // a point on the object's edge: walk outwards from the centre along a random direction
  const angle = rng.uniform(0, 2 * Math.PI);
  let ex = size / 2,
    ey = size / 2;
  for (let t = 0; t < size / 2; t++) {
    const x = size / 2 + t * Math.cos(angle),
      y = size / 2 + t * Math.sin(angle);
    if (x < 0 || y < 0 || x >= size || y >= size) break;
    if (image.region[Math.floor(y) * size + Math.floor(x)]) {
      ex = x;
      ey = y;
    }
  }
  const r = size * rng.uniform(0.06, 0.09);
  const mask = intersect(ellipseMask(size, ex, ey, r, r * rng.uniform(0.7, 1), angle), image.region);
  apply(image, mask, (x, y) => image.background(x, y));
  return mask;
}

const DRAW: Partial<Record<DefectType, (image: NormalImage, rng: Rng) => Uint8Array>> = {
  scratch,
  blob,
  stain,
  hole,
  missing,
};

/** Draws the defect; retries (new position) when it would be nearly empty. */
export function drawDefect(image: NormalImage, type: DefectType, rng: Rng): Uint8Array {
  const snapshot = Float32Array.from(image.canvas.rgb);
  for (let attempt = 0; attempt < 5; attempt++) {
    const draw = DRAW[type];
    if (!draw) throw new Error(`synthetic: the classic set has no '${type}' defect`);
    const mask = draw(image, rng);
    if (countOn(mask) >= 20) return mask;
    image.canvas.rgb.set(snapshot);
  }
  throw new Error(`synthetic: could not place a '${type}' defect`);
}
