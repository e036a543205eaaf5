/**
 * The embedded synthetic categories: two texture-like (a woven fabric, a veined marble) and two
 * object-like (an orange pill-shaped disc on a dark belt, a metal hex nut). Normal images vary in
 * phase, pose, colour and noise, so "any difference" is not an anomaly; only the drawn defects are.
 */
import type { Rng } from '@cfa/tensor-runtime';
import { type Canvas, createCanvas, ellipseMask, fractalNoise, polygonMask, valueNoise } from './canvas';

export type SyntheticKind = 'texture' | 'object';
export type DefectType = 'scratch' | 'blob' | 'stain' | 'hole' | 'missing';

export interface NormalImage {
  canvas: Canvas;
  /** Where the object is (all 1 for textures): defects of objects stay on it. */
  region: Uint8Array;
  /** Background colour, for "missing part" defects. */
  background: (x: number, y: number) => [number, number, number];
}

export interface SyntheticCategory {
  name: string;
  kind: SyntheticKind;
  defects: DefectType[];
  render(rng: Rng, size: number): NormalImage;
}

function fill(canvas: Canvas, colour: (x: number, y: number, i: number) => [number, number, number]): void {
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

const weave: SyntheticCategory = {
  name: 'weave',
  kind: 'texture',
  defects: ['scratch', 'blob', 'stain', 'hole'],
  render(rng, size) {
    const canvas = createCanvas(size);
    const period = (size / 22) * rng.uniform(0.95, 1.05);
    const px = rng.uniform(0, period),
      py = rng.uniform(0, period);
    const base: [number, number, number] = [0.62 + rng.uniform(-0.02, 0.02), 0.5 + rng.uniform(-0.02, 0.02), 0.36];
    const fibre = valueNoise(rng, size, 2);
    const slow = valueNoise(rng, size, size / 4);
    fill(canvas, (x, y, i) => {
      const u = (x + px) / period,
        v = (y + py) / period;
      const over = (Math.floor(u) + Math.floor(v)) % 2 === 0;
      const t = over ? Math.sin(Math.PI * (u % 1)) : Math.sin(Math.PI * (v % 1));
      const shade = 0.7 + 0.3 * t + 0.08 * (fibre[i] - 0.5) + 0.06 * (slow[i] - 0.5);
      return [base[0] * shade, base[1] * shade, base[2] * shade];
    });
    return { canvas, region: new Uint8Array(size * size).fill(1), background: () => [0.08, 0.07, 0.06] };
  },
};

const marble: SyntheticCategory = {
  name: 'marble',
  kind: 'texture',
  defects: ['scratch', 'blob', 'stain', 'hole'],
  render(rng, size) {
    const canvas = createCanvas(size);
    const warp = fractalNoise(rng, size, size / 3, 5);
    const grain = valueNoise(rng, size, 3);
    const angle = rng.uniform(-0.3, 0.3) + Math.PI / 5;
    const freq = rng.uniform(5, 6) / size;
    const tint = rng.uniform(-0.02, 0.02);
    fill(canvas, (x, y, i) => {
      const s = x * Math.cos(angle) + y * Math.sin(angle);
      const vein = Math.abs(Math.sin(2 * Math.PI * (s * freq + 1.8 * warp[i])));
      const v = 0.82 - 0.32 * Math.pow(1 - vein, 6) + 0.04 * (grain[i] - 0.5);
      return [v + tint, v, v - 0.02 - tint];
    });
    return { canvas, region: new Uint8Array(size * size).fill(1), background: () => [0.1, 0.1, 0.1] };
  },
};

const disc: SyntheticCategory = {
  name: 'disc',
  kind: 'object',
  defects: ['scratch', 'stain', 'missing', 'blob'],
  render(rng, size) {
    const canvas = createCanvas(size);
    const cx = size / 2 + rng.uniform(-3, 3),
      cy = size / 2 + rng.uniform(-3, 3);
    const r = size * rng.uniform(0.3, 0.32);
    const belt = valueNoise(rng, size, 4);
    const specks = valueNoise(rng, size, 1.5);
    const hue = rng.uniform(-0.03, 0.03);
    const region = ellipseMask(size, cx, cy, r, r * rng.uniform(0.97, 1), rng.uniform(0, Math.PI));
    const background = (x: number, y: number): [number, number, number] => {
      const b = 0.18 + 0.05 * belt[y * size + x];
      return [b, b, b * 1.05];
    };
    fill(canvas, (x, y, i) => {
      if (!region[i]) return background(x, y);
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy) / r;
      const light = 1 - 0.25 * d * d + 0.12 * (1 - Math.hypot(x - cx + r / 3, y - cy + r / 3) / r);
      const s = 0.04 * (specks[i] - 0.5);
      return [(0.9 + hue) * light + s, (0.5 + hue) * light + s, 0.15 * light + s];
    });
    return { canvas, region, background };
  },
};

const nut: SyntheticCategory = {
  name: 'nut',
  kind: 'object',
  defects: ['scratch', 'stain', 'missing', 'blob'],
  render(rng, size) {
    const canvas = createCanvas(size);
    const cx = size / 2 + rng.uniform(-3, 3),
      cy = size / 2 + rng.uniform(-3, 3);
    const radius = size * rng.uniform(0.34, 0.36);
    const body = polygonMask(size, cx, cy, radius, 6, rng.uniform(-0.1, 0.1));
    const hole = ellipseMask(size, cx, cy, radius * 0.42, radius * 0.42, 0);
    const region = body.map((v, i) => v & (1 - hole[i]));
    const brushed = valueNoise(rng, size, 2);
    const paper = valueNoise(rng, size, 8);
    const background = (x: number, y: number): [number, number, number] => {
      const b = 0.86 + 0.04 * paper[y * size + x];
      return [b, b, b];
    };
    const metal = rng.uniform(0.5, 0.56);
    fill(canvas, (x, y, i) => {
      if (!region[i]) return background(x, y);
      const a = Math.atan2(y + 0.5 - cy, x + 0.5 - cx);
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy) / radius;
      const v = metal + 0.12 * Math.cos(a - 0.8) + 0.05 * Math.sin(40 * d) + 0.06 * (brushed[i] - 0.5);
      return [v, v * 1.01, v * 1.04];
    });
    return { canvas, region, background };
  },
};

export const SYNTHETIC_CATEGORY_DEFINITIONS: SyntheticCategory[] = [weave, marble, disc, nut];

/** The embedded categories and their kinds. */
export const SYNTHETIC_CATEGORIES: { name: string; kind: SyntheticKind }[] = SYNTHETIC_CATEGORY_DEFINITIONS.map(
  (c) => ({ name: c.name, kind: c.kind }),
);
