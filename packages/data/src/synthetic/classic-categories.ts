/**
 * The classic synthetic set (generator version 1, kept by name for tests and comparisons): two
 * texture-like categories (a woven fabric, a veined marble) and two object-like ones (an orange
 * pill-shaped disc on a dark belt, a metal hex nut), with bold defects (scratch, blob, stain, hole,
 * missing). Every method saturates on them; the standard set (`standard-*.ts`) is the default.
 * Normal images vary in phase, pose, colour and noise, so "any difference" is not an anomaly.
 */
import type { Rng } from '@cfa/tensor-runtime';
import { createCanvas, ellipseMask, fractalNoise, paint, polygonMask, valueNoise } from './canvas';
import type { DefectType, NormalImage, SyntheticCategory } from './category-types';
import { drawDefect } from './defects';

/** Classic categories draw the defect on the image rendered from the same stream, as version 1 did. */
function classic(
  definition: Omit<SyntheticCategory, 'grayscale' | 'defective' | 'render'> & {
    render(rng: Rng, size: number): NormalImage;
  },
): SyntheticCategory {
  return {
    ...definition,
    grayscale: false,
    defective(rng: Rng, size: number, defect: DefectType) {
      const image = definition.render(rng, size);
      return { image, mask: drawDefect(image, defect, rng) };
    },
  };
}

const weave = classic({
  name: 'weave',
  description: 'woven fabric, basket weave (classic)',
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
    paint(canvas, (x, y, i) => {
      const u = (x + px) / period,
        v = (y + py) / period;
      const over = (Math.floor(u) + Math.floor(v)) % 2 === 0;
      const t = over ? Math.sin(Math.PI * (u % 1)) : Math.sin(Math.PI * (v % 1));
      const shade = 0.7 + 0.3 * t + 0.08 * (fibre[i] - 0.5) + 0.06 * (slow[i] - 0.5);
      return [base[0] * shade, base[1] * shade, base[2] * shade];
    });
    return { canvas, region: new Uint8Array(size * size).fill(1), background: () => [0.08, 0.07, 0.06] };
  },
});

const marble = classic({
  name: 'marble',
  description: 'veined marble (classic)',
  kind: 'texture',
  defects: ['scratch', 'blob', 'stain', 'hole'],
  render(rng, size) {
    const canvas = createCanvas(size);
    const warp = fractalNoise(rng, size, size / 3, 5);
    const grain = valueNoise(rng, size, 3);
    const angle = rng.uniform(-0.3, 0.3) + Math.PI / 5;
    const freq = rng.uniform(5, 6) / size;
    const tint = rng.uniform(-0.02, 0.02);
    paint(canvas, (x, y, i) => {
      const s = x * Math.cos(angle) + y * Math.sin(angle);
      const vein = Math.abs(Math.sin(2 * Math.PI * (s * freq + 1.8 * warp[i])));
      const v = 0.82 - 0.32 * Math.pow(1 - vein, 6) + 0.04 * (grain[i] - 0.5);
      return [v + tint, v, v - 0.02 - tint];
    });
    return { canvas, region: new Uint8Array(size * size).fill(1), background: () => [0.1, 0.1, 0.1] };
  },
});

const disc = classic({
  name: 'disc',
  description: 'orange disc on a dark belt (classic)',
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
    paint(canvas, (x, y, i) => {
      if (!region[i]) return background(x, y);
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy) / r;
      const light = 1 - 0.25 * d * d + 0.12 * (1 - Math.hypot(x - cx + r / 3, y - cy + r / 3) / r);
      const s = 0.04 * (specks[i] - 0.5);
      return [(0.9 + hue) * light + s, (0.5 + hue) * light + s, 0.15 * light + s];
    });
    return { canvas, region, background };
  },
});

const nut = classic({
  name: 'nut',
  description: 'metal hex nut on paper (classic)',
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
    paint(canvas, (x, y, i) => {
      if (!region[i]) return background(x, y);
      const a = Math.atan2(y + 0.5 - cy, x + 0.5 - cx);
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy) / radius;
      const v = metal + 0.12 * Math.cos(a - 0.8) + 0.05 * Math.sin(40 * d) + 0.06 * (brushed[i] - 0.5);
      return [v, v * 1.01, v * 1.04];
    });
    return { canvas, region, background };
  },
});

export const CLASSIC_CATEGORIES: SyntheticCategory[] = [weave, marble, disc, nut];
