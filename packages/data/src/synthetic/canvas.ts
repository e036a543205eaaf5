/**
 * Small drawing primitives for the synthetic dataset: an RGB float canvas, smooth value noise,
 * and shape masks. Everything is seeded through the caller's RNG.
 */
import type { Rng } from '@cfa/tensor-runtime';

export interface Canvas {
  size: number;
  /** RGB in [0, 1], HWC. */
  rgb: Float32Array;
}

export function createCanvas(size: number): Canvas {
  return { size, rgb: new Float32Array(size * size * 3) };
}

const smooth = (t: number) => t * t * (3 - 2 * t);

/** Value noise in [0, 1] with features about `cell` pixels wide. */
export function valueNoise(rng: Rng, size: number, cell: number): Float32Array {
  const n = Math.ceil(size / cell) + 2;
  const grid = Float32Array.from({ length: n * n }, () => rng.next());
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const gy = y / cell,
      y0 = Math.floor(gy),
      ty = smooth(gy - y0);
    for (let x = 0; x < size; x++) {
      const gx = x / cell,
        x0 = Math.floor(gx),
        tx = smooth(gx - x0);
      const a = grid[y0 * n + x0],
        b = grid[y0 * n + x0 + 1],
        c = grid[(y0 + 1) * n + x0],
        d = grid[(y0 + 1) * n + x0 + 1];
      out[y * size + x] = (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty;
    }
  }
  return out;
}

/** Fractal noise: octaves of value noise, normalised to [0, 1]. */
export function fractalNoise(rng: Rng, size: number, cell: number, octaves = 4): Float32Array {
  const out = new Float32Array(size * size);
  let amp = 1,
    total = 0;
  for (let o = 0; o < octaves; o++) {
    const layer = valueNoise(rng, size, Math.max(2, cell / 2 ** o));
    for (let i = 0; i < out.length; i++) out[i] += amp * layer[i];
    total += amp;
    amp /= 2;
  }
  for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}

/** Pixels inside an ellipse centred at (cx, cy) with radii (rx, ry), rotated by `angle` radians. */
export function ellipseMask(size: number, cx: number, cy: number, rx: number, ry: number, angle: number): Uint8Array {
  const out = new Uint8Array(size * size);
  const cos = Math.cos(angle),
    sin = Math.sin(angle);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x + 0.5 - cx,
        dy = y + 0.5 - cy;
      const u = (cos * dx + sin * dy) / rx,
        v = (-sin * dx + cos * dy) / ry;
      if (u * u + v * v <= 1) out[y * size + x] = 1;
    }
  }
  return out;
}

/** Pixels within `width/2` of a polyline. */
export function polylineMask(size: number, points: [number, number][], width: number): Uint8Array {
  const out = new Uint8Array(size * size);
  const r = width / 2;
  for (let s = 0; s + 1 < points.length; s++) {
    const [ax, ay] = points[s],
      [bx, by] = points[s + 1];
    const minX = Math.max(0, Math.floor(Math.min(ax, bx) - r - 1)),
      maxX = Math.min(size - 1, Math.ceil(Math.max(ax, bx) + r + 1));
    const minY = Math.max(0, Math.floor(Math.min(ay, by) - r - 1)),
      maxY = Math.min(size - 1, Math.ceil(Math.max(ay, by) + r + 1));
    const lx = bx - ax,
      ly = by - ay,
      len2 = lx * lx + ly * ly || 1;
    for (let y = minY; y <= maxY; y++) {
      for (let x = minX; x <= maxX; x++) {
        const px = x + 0.5 - ax,
          py = y + 0.5 - ay;
        const t = Math.max(0, Math.min(1, (px * lx + py * ly) / len2));
        const dx = px - t * lx,
          dy = py - t * ly;
        if (dx * dx + dy * dy <= r * r) out[y * size + x] = 1;
      }
    }
  }
  return out;
}

/** Points inside a regular polygon (hexagon for n = 6). */
export function polygonMask(
  size: number,
  cx: number,
  cy: number,
  radius: number,
  sides: number,
  angle: number,
): Uint8Array {
  const out = new Uint8Array(size * size);
  const apothem = radius * Math.cos(Math.PI / sides);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x + 0.5 - cx,
        dy = y + 0.5 - cy;
      let inside = true;
      for (let k = 0; k < sides && inside; k++) {
        const a = angle + (2 * Math.PI * k) / sides;
        if (dx * Math.cos(a) + dy * Math.sin(a) > apothem) inside = false;
      }
      if (inside) out[y * size + x] = 1;
    }
  }
  return out;
}

export function intersect(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.map((v, i) => v & b[i]);
}

export function countOn(mask: Uint8Array): number {
  let n = 0;
  for (const v of mask) n += v;
  return n;
}

export function toRgb8(canvas: Canvas): Uint8Array {
  return Uint8Array.from(canvas.rgb, (v) => Math.max(0, Math.min(255, Math.round(v * 255))));
}

/** Sets every pixel of the canvas to `colour(x, y, index)`. */
export function paint(canvas: Canvas, colour: (x: number, y: number, i: number) => [number, number, number]): void {
  const { size, rgb } = canvas;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const [r, g, b] = colour(x, y, i);
      rgb[i * 3] = r;
      rgb[i * 3 + 1] = g;
      rgb[i * 3 + 2] = b;
    }
}
